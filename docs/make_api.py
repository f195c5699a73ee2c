"""Regenerate docs/api.md from the public docstrings: python3 docs/make_api.py"""

import inspect
from pathlib import Path

import tinyad
import tinyad.numpy as tnp
from tinyad import datasets, hyper, nn, optim, reversible, testing

SECTIONS = [
    ("tinyad", tinyad, ["grad", "value_and_grad", "vjp", "jvp", "linearize", "jacfwd", "jacrev", "hessian", "hvp",
                        "stop_gradient", "primitive", "Primitive", "tree_map", "LeakedBoxError",
                        "NonDifferentiableError"]),
    ("tinyad.optim", optim, ["Optimizer", "sgd", "adam", "rmsprop", "sgd_hd", "sgdn_hd", "adam_hd", "stack",
                             "hyperparams_in_use", "HypergradientError"]),
    ("tinyad.hyper", hyper, ["hypergrad", "SeedAverage", "optimize", "Result", "load_result", "optimize_many",
                             "TrialsFailed", "default_constraint", "StoppedWarning", "HypergradientWarning",
                             "implicit_hypergrad", "ImplicitResult", "implicit_solution", "newton_minimize",
                             "ImplicitWarning"]),
    ("tinyad.reversible", reversible, ["hypergrad", "ReversibleSGD", "Hypergradients", "as_rational",
                                       "ExactArithmeticError", "RecoveryError"]),
    ("tinyad.testing", testing, ["check_grads"]),
    ("tinyad.nn", nn, ["init_mlp", "mlp", "cross_entropy", "accuracy"]),
    ("tinyad.datasets", datasets, ["digits"]),
]


def signature(obj):
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        return "(...)"


CONSTANTS = {"array", "asarray", "zeros", "ones", "empty", "eye", "full", "arange", "linspace", "ndarray", "float32",
             "float64", "int32", "int64", "random"}
INTERNAL = {"Any", "getitem", "scatter_add"}


def public_numpy_names() -> list:
    """What tinyad.numpy offers beyond NumPy's constants: no private, internal or primitive-object names."""
    return [n for n in sorted(dir(tnp)) if not n.startswith("_") and callable(getattr(tnp, n))
            and n not in CONSTANTS | INTERNAL and not n.endswith(("_p", "_of"))]


def main() -> None:
    out = ["# API", "", "Generated from the docstrings by `python3 docs/make_api.py`.", ""]
    for title, mod, names in SECTIONS:
        out += [f"## {title}", ""]
        for n in names:
            obj = getattr(mod, n)
            target = obj.impl if isinstance(obj, tinyad.Primitive) else obj
            out += [f"### `{title}.{n}{signature(target)}`", "", inspect.getdoc(obj) or "", ""]
    out += ["## tinyad.numpy", "", inspect.getdoc(tnp) or "", "",
            "Functions: " + ", ".join(f"`{n}`" for n in public_numpy_names()) + ".", "",
            "Constants and constructors from NumPy (no derivative): `array`, `asarray`, `zeros`, `ones`, `empty`, "
            "`eye`, `full`, `arange`, `linspace`, `random`, `pi`, `e`, `inf`, `nan`, `newaxis`, dtypes.", ""]
    Path(__file__).with_name("api.md").write_text("\n".join(out))


if __name__ == "__main__":
    main()
