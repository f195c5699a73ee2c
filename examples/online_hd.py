"""Same as `tinyad demo hd`; the code is in tinyad/demos/hd.py."""

from tinyad.demos.hd import main

if __name__ == "__main__":
    main()
