"""Test-session settings.

BLAS runs single-threaded in the tests: the matrices here are small, and on a 2-core
CI machine OpenBLAS threads only compete with each other and with numba's threads
(measured: a lindblad test file took 224 s with default threading under load and
25 s with one thread).  Must run before numpy is imported.
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
