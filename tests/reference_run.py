"""The reference run of ../shared/reference/digits_hypergrad.json, rebuilt from its 'definition' with tinyad."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

import tinyad
from tinyad import datasets, nn, optim

REFERENCE = Path(os.environ.get(
    "TINYAD_REFERENCE",
    Path(__file__).resolve().parents[2] / "shared" / "reference" / "digits_hypergrad.json",
))


def load_reference() -> dict:
    """The reference values; outside CI a checkout without ../shared skips (CI=true makes it an error)."""
    if not REFERENCE.exists():
        if os.environ.get("CI"):
            raise FileNotFoundError(f"reference values not found at {REFERENCE} (set TINYAD_REFERENCE)")
        pytest.skip(f"reference values not found at {REFERENCE}; set TINYAD_REFERENCE", allow_module_level=True)
    return json.loads(REFERENCE.read_text())


class ReferenceRun:
    def __init__(self) -> None:
        ref = load_reference()["config"]
        self.data = datasets.digits(ref["data_seed"], ref["n_train"], ref["n_val"])
        self.p0 = nn.init_mlp((ref["n_in"], ref["hidden"], ref["n_out"]), seed=ref["init_seed"])
        self.batch = ref["batch"]
        self.n_train = ref["n_train"]
        self.h0 = {"alpha": ref["alpha"], "mu": ref["mu"], "wd": ref["wd"]}

    @staticmethod
    def loss(p, X, Y):
        return nn.cross_entropy(nn.mlp(p, X), Y)

    def run(self, h, T):
        """Validation loss after T steps of v <- mu v - (g + wd theta); theta <- theta + alpha v."""
        d = self.data
        opt = optim.sgd(h["alpha"], h["mu"], weight_decay=h["wd"])
        p, s = self.p0, opt.init(self.p0)
        for t in range(T):
            i = (self.batch * t) % self.n_train
            g = tinyad.grad(self.loss)(p, d.X_train[i:i + self.batch], d.Y_train[i:i + self.batch])
            p, s = opt.update(g, s, p)
        return self.loss(p, d.X_val, d.Y_val)


def flat(g: dict) -> np.ndarray:
    return np.array([g["alpha"], g["mu"], g["wd"]])
