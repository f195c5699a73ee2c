"""Every built-in primitive, by topic: its value, JVP and VJP side by side.

``elementwise`` (with broadcasting), ``nondiff`` (constants: comparisons, rounding, argmax,
stop_gradient), ``structural`` (shapes and reductions; the engine's own structural primitives from
``tinyad.core.vspace`` are re-exported there), ``contractions`` (matmul, einsum), ``linalg``, ``fft`` and
``losses``. Importing this package fills ``tinyad.core.REGISTRY``.
"""

from . import contractions, elementwise, fft, linalg, losses, nondiff, structural  # noqa: F401
