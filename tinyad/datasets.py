"""Small data sets from installed packages (no downloads): scikit-learn's bundled 8x8 digits."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Split(NamedTuple):
    X_train: np.ndarray
    Y_train: np.ndarray
    X_val: np.ndarray
    Y_val: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray


def digits(seed: int = 0, n_train: int = 1000, n_val: int = 500) -> Split:
    """The 1797 digits, pixels / 16 in float64, shuffled by ``RandomState(seed).permutation``; the first
    ``n_train`` rows train, the next ``n_val`` validate, the rest test. Labels are one-hot (10 classes).

    With the defaults this is bit-for-bit the split of ``shared/reference/digits_hypergrad.json``."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("the digits data ships with scikit-learn: pip install scikit-learn "
                          "(or pip install 'tinyad[demo]')") from e
    d = load_digits()
    X = d.data.astype(np.float64) / 16.0
    y = d.target
    perm = np.random.RandomState(seed).permutation(len(X))
    X, y = X[perm], y[perm]
    Y = np.eye(10)[y]
    a, b = n_train, n_train + n_val
    return Split(X[:a], Y[:a], X[a:b], Y[a:b], X[b:], Y[b:])
