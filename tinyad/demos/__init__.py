"""Runnable demos (``tinyad demo NAME``); each module is also readable as an example of user code."""

DEMOS = {
    "quadratic": "tinyad.demos.quadratic",
    "mlp": "tinyad.demos.mlp",
    "hd": "tinyad.demos.hd",
    "stack": "tinyad.demos.stack",
    "reversible": "tinyad.demos.reversible",
    "fluid": "tinyad.demos.fluid",
    "implicit": "tinyad.demos.implicit",
}

# One line each for ``tinyad demo --help``, kept here so listing the demos imports none of them.
SUMMARIES = {
    "quadratic": "the seed: tune a learning rate by the hypergradient of a 10-step inner run",
    "mlp": "tune an MLP's learning rate, momentum and weight decay on the digits by hypergradient",
    "hd": "online hypergradient descent: SGD, SGDN and Adam against their HD versions",
    "stack": "stacks of hyperoptimizers: sensitivity to the initial learning rate shrinks with height",
    "reversible": "exactly reversible learning: lr schedules from seed-averaged hypergradients; distilled images",
    "fluid": "optimise a fluid's initial velocity so the smoke ends up in a target shape",
    "implicit": "implicit differentiation: one L2 strength per pixel of a digits classifier (64 hyperparameters)",
}
