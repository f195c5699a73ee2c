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
