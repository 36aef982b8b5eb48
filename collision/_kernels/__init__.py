"""Numba kernels only: pure functions of arrays and scalars writing into ``out`` arrays.

One module per engine; the public drivers in ``collision/`` validate, allocate and
dispatch.
"""
