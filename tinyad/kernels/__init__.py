"""numba-compiled array kernels: pure functions on ndarrays that know nothing about differentiation.

Each one is the fast path of a primitive's rule or of an optimizer's update on plain arrays; the generic
rule (in tinyad ops) stays the reference, and tests/test_kernels.py holds the two equal. Kernels are
compiled with numba's on-disk cache (``compiling.kernel``), so only the first process on a machine pays
for compilation. Entry points check shapes and dtypes before a kernel runs.
"""

from . import exact, sgd, softmax_xent, special  # noqa: F401 - each registers its warm-up with compiling.warms_up
from .compiling import warmup

__all__ = ["warmup"]
