"""numba-compiled array kernels: pure functions on ndarrays that know nothing about differentiation.

Each one is the fast path of a primitive's rule on plain arrays; the primitive's generic rule (in tinyad
ops) stays the reference, and tests/test_kernels.py holds the two equal. ``cache=True`` keeps compiled
code on disk, so only the very first import on a machine pays for compilation.
"""
