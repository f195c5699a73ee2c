"""Same as `tinyad demo fluid`; the code is in tinyad/demos/fluid.py."""

from tinyad.demos.fluid import main

if __name__ == "__main__":
    main()
