"""Heat counting statistics of the cascaded master equation: the tilted generator.

The collision model's counting (:mod:`lindblad.counting`) has a ``dt -> 0`` limit.  In
one short step an ancilla gains a quantum from the chain with probability
``g_dn dt <A^dag A>`` and gives one with probability ``g_up dt <A A^dag>``, where for the
cascade ``A = sum_i a_i`` is the *collective* lowering operator: the ancilla meets every
subsystem and the amplitudes of taking the quantum from each add up.  This is the
Lindblad form of DESIGN.md section 3,

    L = g_dn L[A] + g_up L[A^dag] - i [H_c + H, .],
    H_c = i (g_dn - g_up) / 2 sum_{i<j} (a_i^dag a_j - a_j^dag a_i),

whose jump terms ``g_dn A rho A^dag`` (a quantum into the reservoir, ``q -> q + 1``) and
``g_up A^dag rho A`` (``q -> q - 1``) are exactly the sandwich terms of
:class:`lindblad.CascadeMasterEquation` (``L_i`` and ``D_ij`` together).  With a counting
field ``chi`` they carry ``e^{i chi}`` and ``e^{-i chi}``:

    L_chi = L + (e^{i chi} - 1) g_dn A . A^dag + (e^{-i chi} - 1) g_up A^dag . A,

and ``G(chi, t) = Tr[exp(L_chi t) rho0] = sum_q P(q, t) e^{i chi q}``.  With independent
reservoirs (``cascade=False``) every subsystem has its own jumps ``a_i``, ``a_i^dag`` and
its own field ``chi_i``.

Two exact ways to ``P(q, t)`` (``method=``):

* ``"fourier"``: ``G`` at ``M = 2 q_max + 1`` fields ``chi_j = 2 pi j / M`` (per
  reservoir), each from the exact propagation of the ``m = 0`` block of ``L_chi``, and a
  discrete Fourier transform.  ``q`` is bounded, ``|q| <= q_max`` (``n (d - 1)``, or
  ``d - 1`` per independent subsystem), so the transform has no aliasing: it is exact,
  not a truncation.
* ``"blocks"`` (default, cheaper): every jump changes the chain's excitation number
  ``N`` by exactly ``-/+1`` and nothing else does, so ``L_chi = e^{-i chi N} L
  e^{i chi N}`` on the ``m = 0`` block and ``q = N(0) - N(t)``.  Hence

      P(q, t) = sum_{N0} Tr[Pi_{N0 - q} exp(L t) (Pi_{N0} rho0 Pi_{N0})],

  one propagation of the ordinary generator per occupied excitation number ``N0``
  (propagated together).  With independent reservoirs the populations of each subsystem
  evolve alone (rate matrix ``W``: ``n -> n - 1`` at ``g_dn |<n-1|a|n>|^2``,
  ``n -> n + 1`` at ``g_up |<n+1|a^dag|n>|^2``) and ``q_i = n_i(0) - n_i(t)``
  (:func:`lindblad.counting.independent_joint`).

The two agree to rounding (tested).  Only the ``m = 0`` block of ``rho0`` matters.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ._propagate import DENSE_SECTOR_MAX
from ._sectors import _Sector, _Term
from ._validate import choice
from .counting import HeatStatistics, independent_joint, total_from_joint
from .operators import lowering, turn_subsystems

METHODS = ("blocks", "fourier")
#: Largest number of counting fields the ``"fourier"`` method evaluates.
MAX_FOURIER_POINTS = 4096
#: Memory (bytes) of the propagated columns held at once by the ``"blocks"`` method.
COLUMN_BUDGET = 64 * 2**20


def counting_channels(model) -> list[sp.csr_matrix]:
    """The lowering operators whose jumps are counted: ``[sum_i a_i]`` for the cascade,
    ``[a_1, ..., a_n]`` for independent reservoirs."""
    a = [model.lowering_operator(i) for i in range(model.n_systems)]
    if model.cascade:
        return [sum(a[1:], a[0]).tocsr()]
    return a


def q_max(model) -> int:
    """The bound on one counting channel's ``|q|``: ``n (d - 1)`` (cascade) or ``d - 1``."""
    d = model.dims[0]
    return (model.n_systems if model.cascade else 1) * (d - 1)


def tilted_sector(model, chi) -> sp.csr_matrix:
    """The ``m = 0`` block of the tilted generator ``L_chi`` (module docstring).

    Parameters
    ----------
    model : CascadeMasterEquation
    chi : float or sequence of float
        One counting field (cascade) or one per subsystem (``cascade=False``), radians.

    Returns
    -------
    scipy.sparse.csr_matrix
        On the entries ``rho[sector.ket, sector.bra]`` of ``model.sector(0)``.
    """
    channels = counting_channels(model)
    chi = np.atleast_1d(np.asarray(chi, dtype=float))
    if chi.shape != (len(channels),) or not np.all(np.isfinite(chi)):
        raise ValueError(f"chi must be {len(channels)} finite number(s) (one counting field "
                         f"per {'reservoir' if len(channels) > 1 else 'cascade'}), got {chi!r}")
    g_dn, g_up = model.rates
    out = model.sector(0).matrix.astype(complex)
    for field, a in zip(chi, channels, strict=True):
        ad = a.conj().T.tocsr()
        for g, phase, x, xd in ((g_dn, 1j * field, a, ad), (g_up, -1j * field, ad, a)):
            if g == 0.0 or field == 0.0:
                continue
            jump = _Sector.build(model._n, 0, [_Term(1.0, x, xd)]).matrix
            out = out + (np.exp(phase) - 1.0) * g * jump
    return out.tocsr()


def generating_function(model, rho0, times, chi) -> np.ndarray:
    """``G(chi, t) = Tr[exp(L_chi t) rho0] = sum_q P(q, t) exp(i sum_c chi_c q_c)``, shape (n_t,).

    Exact propagation of the tilted ``m = 0`` block (the same scheme as
    :meth:`CascadeMasterEquation.evolve`).
    """
    rho0, t = _checked(model, rho0, times)
    return _generating_function(model, rho0, t, chi)


def _generating_function(model, rho0: np.ndarray, t: np.ndarray, chi) -> np.ndarray:
    sec = model.sector(0)
    tilted = _Sector(0, sec.ket, sec.bra, tilted_sector(model, chi))
    v = tilted.propagate(rho0[sec.ket, sec.bra], t)
    return v[:, sec.ket == sec.bra].sum(axis=1)


def _checked(model, rho0, times) -> tuple[np.ndarray, np.ndarray]:
    rho0 = model._check_state(rho0)
    t = model._check_times(times)
    if any(model.delays):
        raise ValueError("heat statistics with a delay between the subsystems are not "
                         "implemented: use delay=0")
    if any(model.phases):  # the phase-free cascade from V^dag rho0 V (frame_angles)
        rho0 = turn_subsystems(rho0, model.dims, model.frame_angles, inverse=True)
    return rho0, t


def heat_statistics(model, rho0, times, method: str = "blocks") -> HeatStatistics:
    """``P(q, t)`` of the heat delivered to the reservoir, exact (module docstring).

    Parameters
    ----------
    model : CascadeMasterEquation
    rho0 : array_like, shape (D, D)
        Initial state (validated).
    times : array_like
        Non-decreasing times >= 0 (1/gamma).
    method : {"blocks", "fourier"}
        Both exact; "fourier" evaluates the tilted generator's generating function.

    Returns
    -------
    HeatStatistics
        ``quanta = -q_max .. q_max``; for ``cascade=False`` also the joint distribution
        of the subsystems' heats.
    """
    method = choice(method, "method", METHODS)
    rho0, t = _checked(model, rho0, times)
    qm = q_max(model)
    n_ch = len(counting_channels(model))
    params = {"source": "lindblad", "counting": method, **model.parameters}
    n_q, n_blocks = 2 * qm + 1, int(model._n.max()) + 1
    if method == "fourier":
        per_time = 2 * 16.0 * float(n_q) ** n_ch
    elif not model.cascade:
        per_time = 3 * 8.0 * float(2 * model.dims[0] - 1) ** model.n_systems
    else:
        per_time = 8.0 * n_blocks**2
    model.check_memory("heat_statistics()", t.size, per_time + 3 * 8.0 * n_q,
                       block_per_time=method == "fourier")
    if method == "fourier":
        m = 2 * qm + 1
        if m**n_ch > MAX_FOURIER_POINTS:
            raise ValueError(f"method='fourier' would need {m}^{n_ch} = {m**n_ch} counting "
                             f"fields (more than {MAX_FOURIER_POINTS}); use method='blocks'")
        chis = 2 * math.pi * np.arange(m) / m
        g = np.empty((t.size,) + (m,) * n_ch, dtype=complex)
        for idx in np.ndindex(*(m,) * n_ch):
            g[(slice(None),) + idx] = _generating_function(model, rho0, t,
                                                           chis[list(idx)])
        # P(q) = (1/M^c) sum_j G(chi_j) e^{-i chi_j . q}: numpy's forward FFT, at q mod M
        p = np.fft.fftn(g, axes=tuple(range(1, n_ch + 1))).real / m**n_ch
        q = np.arange(-qm, qm + 1)
        p = p[np.ix_(np.arange(t.size), *[q % m] * n_ch)]
        if n_ch == 1:
            return HeatStatistics(t, q, p, parameters=params)
        quanta, total = total_from_joint(p, q)
        return HeatStatistics(t, quanta, total, joint=p, local_quanta=q, parameters=params)
    if not model.cascade:
        d = model.dims[0]
        pops = np.real(np.diagonal(rho0)).reshape((d,) * model.n_systems)
        joint = independent_joint(pops, _population_transitions(model, t))
        local = np.arange(-(d - 1), d)
        quanta, total = total_from_joint(joint, local)
        return HeatStatistics(t, quanta, total, joint=joint, local_quanta=local,
                              parameters=params)
    blocks = _block_populations(model, rho0, t)  # (n_t, n_init, n_blocks), N0 list
    p = counting_from_blocks(*blocks, qm)
    return HeatStatistics(t, np.arange(-qm, qm + 1), p, parameters=params)


def counting_from_blocks(populations: np.ndarray, initial: np.ndarray, q_bound: int
                         ) -> np.ndarray:
    """``P(q, t) = sum_j populations[t, j, N0_j - q]`` for ``-q_bound <= q <= q_bound``.

    Parameters
    ----------
    populations : ndarray, shape (n_t, n_init, n_blocks)
        ``Tr[Pi_N Phi_t(Pi_{N0_j} rho0 Pi_{N0_j})]``: the population of excitation number
        ``N`` at time ``t`` of the part of ``rho0`` that started with ``N0_j``.
    initial : ndarray of int, shape (n_init,)
        The ``N0_j``.
    q_bound : int
        ``q_max``.
    """
    n_t, _, n_blocks = populations.shape
    out = np.zeros((n_t, 2 * q_bound + 1))
    for j, n0 in enumerate(initial):
        for n in range(n_blocks):
            out[:, n0 - n + q_bound] += populations[:, j, n]
    return out


def _block_populations(model, rho0: np.ndarray, t: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Populations of every excitation number at ``t`` of each block-projected part of
    ``rho0`` (the ``"blocks"`` method), propagated together."""
    sec = model.sector(0)
    n_of = model._n[sec.ket]
    diag = sec.ket == sec.bra
    n_blocks = int(model._n.max()) + 1
    v0 = rho0[sec.ket, sec.bra]
    initial = np.array([n for n in range(n_blocks) if np.any(v0[n_of == n] != 0)],
                       dtype=np.int64)
    cols = np.where(n_of[:, None] == initial[None, :], v0[:, None], 0.0).astype(complex)
    # reducer: entries -> populations of each excitation number
    reduce = sp.csr_matrix((np.ones(int(diag.sum())),
                            (n_of[diag], np.flatnonzero(diag))), shape=(n_blocks, sec.size))
    out = np.empty((t.size, initial.size, n_blocks))
    for k, v in _propagate_columns(sec, cols, t):
        out[k] = (reduce @ v).real.T
    return out, initial


def _propagate_columns(sec: _Sector, cols: np.ndarray, t: np.ndarray):
    """Yield ``(k, exp(L t_k) cols)`` for every time, exactly (the scheme of
    :meth:`lindblad.model._Sector.propagate`, applied to several columns at once and
    holding at most ``COLUMN_BUDGET`` bytes of them)."""
    steps = np.diff(t, prepend=0.0)
    v = cols
    if sec.size <= DENSE_SECTOR_MAX:
        identity = np.eye(sec.size, dtype=complex)
        cache: dict[str, np.ndarray] = {}
        for k, h in enumerate(steps):
            if h > 0:
                key = f"{h:.12e}"
                if key not in cache:
                    cache[key] = spla.expm_multiply(sec.matrix * h, identity)
                v = cache[key] @ v
            yield k, v
        return
    if t[0] > 0:
        v = spla.expm_multiply(sec.matrix * t[0], v)
    yield 0, v
    uniform = t.size > 2 and np.allclose(steps[1:], steps[1], rtol=1e-12, atol=0)
    if uniform and steps[1] > 0:
        chunk = max(2, COLUMN_BUDGET // max(1, v.size * 16))
        k = 0
        while k < t.size - 1:
            stop = min(t.size - 1, k + chunk)
            block = spla.expm_multiply(sec.matrix, v, start=0.0, stop=t[stop] - t[k],
                                       num=stop - k + 1, endpoint=True)
            for j in range(1, stop - k + 1):
                yield k + j, block[j]
            v = block[-1]
            k = stop
        return
    for k in range(1, t.size):
        if steps[k] > 0:
            v = spla.expm_multiply(sec.matrix * steps[k], v)
        yield k, v


def population_generator(model) -> np.ndarray:
    """``W``, the rate matrix of one subsystem's populations with its own reservoir
    (``W[a, b]``: rate from level ``b`` to ``a``; columns sum to 0)."""
    d = model.dims[0]
    a2 = np.abs(lowering(d).toarray()) ** 2  # a2[n - 1, n] = |<n-1|a|n>|^2
    g_dn, g_up = model.rates
    w = g_dn * a2 + g_up * a2.T
    return w - np.diag(w.sum(axis=0))


def _population_transitions(model, t: np.ndarray) -> np.ndarray:
    """``T(t_k) = exp(W t_k)``, shape (n_t, d, d), exact (cached steps)."""
    w = population_generator(model)
    d = w.shape[0]
    out = np.empty((t.size, d, d))
    cur = np.eye(d)
    cache: dict[str, np.ndarray] = {}
    for k, h in enumerate(np.diff(t, prepend=0.0)):
        if h > 0:
            key = f"{h:.12e}"
            if key not in cache:
                cache[key] = np.real(spla.expm_multiply(w * h, np.eye(d)))
            cur = cache[key] @ cur
        out[k] = cur
    return out

