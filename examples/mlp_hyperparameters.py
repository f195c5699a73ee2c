"""Tune lr, momentum and weight decay of a digits MLP (same as `tinyad demo mlp`); code in tinyad/demos/mlp.py."""

from tinyad.demos.mlp import main

if __name__ == "__main__":
    main()
