"""Every built-in primitive (the registry itself is ``tinyad.primitive.REGISTRY``).

Files by kind: ``elementwise`` (with broadcasting), ``shapes`` (linear structural ops), ``reductions``,
``linalg`` (matmul), ``special`` (stop_gradient and constant makers).
"""

from . import decompositions, elementwise, fft, linalg, losses, reductions, shapes, special  # noqa: F401,E501
