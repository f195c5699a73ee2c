"""The seed demo (same as `tinyad demo quadratic`): read tinyad/demos/quadratic.py for the code."""

from tinyad.demos.quadratic import main

if __name__ == "__main__":
    main()
