"""Same as `tinyad demo reversible`; the code is in tinyad/demos/reversible.py."""

from tinyad.demos.reversible import main

if __name__ == "__main__":
    main()
