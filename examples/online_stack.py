"""Same as `tinyad demo stack`; the code is in tinyad/demos/stack.py."""

from tinyad.demos.stack import main

if __name__ == "__main__":
    main()
