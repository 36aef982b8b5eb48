"""The thermodynamic ledger of a collision model: energy, heat per stream, switching work
and entropy production, per step and cumulative.

One step of length ``dt`` from the subsystems' state ``rho`` (:mod:`collision.models.
general`): fresh ancillas ``eta_r`` of every stream join in a product, the collisions act
as one unitary ``U`` on the subsystems and the ancillas, the ancillas leave in the
reduced states ``rho'_r`` (stream ``r``'s, ``d_A x d_A``), the subsystems are left in
``rho_c`` and evolve by ``exp(-i H dt)`` to ``rho'``.  The free evolution changes neither
``<H>`` nor the entropy, so "after the collisions" and "after the step" agree for both.

Definitions, per unit time over the step that starts at a saved time ``t`` (``H`` the
subsystems' Hamiltonian, ``H_r`` stream ``r``'s, ``S`` the von Neumann entropy in nats):

``energy``
    ``E(t) = Tr[H rho]``.
``heat[r]``
    ``Q_r = (Tr[H_r rho'_r] - Tr[H_r eta_r]) / dt``, positive into the stream's ancillas
    (the Result's ``heat``).
``work``
    ``W = (Tr[H rho'] - Tr[H rho]) / dt + sum_r Q_r``: the energy the collisions add to
    subsystems + ancillas, ``Tr[(H + sum H_r) (U X U^dag - X)]`` with ``X = rho x eta``,
    supplied by switching the interactions on and off.  Zero when every collision
    conserves ``H + H_r`` (``[V, H x 1 + 1 x H_r] = 0``), non-zero otherwise (``sigma_x x
    sigma_x``).  Defined only when every stream has a Hamiltonian.
``entropy_production``
    ``Sigma = [I(S' : A') + D(rho'_A || eta_1 x ... x eta_k)] / dt`` with ``A'`` all the
    leaving ancillas.  Because ``U`` is unitary, ``S(rho'_SA) = S(rho) + sum_r S(eta_r)``,
    and ``ln(eta_1 x ... x eta_k) = sum_r ln eta_r`` (on the factors), so

        I(S':A') + D(rho'_A || eta)
          = S(rho') + S(rho'_A) - S(rho'_SA) - S(rho'_A) - sum_r Tr[rho'_r ln eta_r]
          = S(rho') - S(rho) + sum_r Tr[(eta_r - rho'_r) ln eta_r]   (>= 0),

    which needs only the subsystems' entropies and each leaving ancilla's reduced state:
    that is what is computed.  When ``eta_r`` is not of full rank, ``ln eta_r`` is
    ``-inf`` on its kernel: eigenvalues of ``eta_r`` at or below :data:`ZERO_EIGENVALUE`
    count as zero, the kernel is dropped from the trace (``0 ln 0 = 0``) while the
    weight ``Tr[P_ker rho'_r]`` stays at or below :data:`LEAK` (rounding), and ``Sigma =
    +inf`` once the ancilla leaves the support by more (a zero-temperature stream that
    absorbs energy).
``entropy_production_clausius``
    For thermal streams, ``eta_r = exp(-beta_r H_r) / Z_r``: ``ln eta_r = -beta_r H_r -
    ln Z_r`` turns the last sum into ``sum_r beta_r Q_r dt``, so ``Sigma = dS/dt + sum_r
    beta_r Q_r``, the Clausius form -- an identity at every finite ``dt``.  Given when
    every stream with a collision is thermal (:func:`thermal_beta`), else ``None``.
``relative_entropy[r]``
    ``D(rho'_r || eta_r) / dt``, the distance of the outgoing ancilla from its incoming
    state; ``correlations = Sigma - sum_r relative_entropy[r]`` is the rest, ``[I(S':A')
    + I(A'_1 : ... : A'_k)] / dt`` (correlations created between the subsystems and the
    ancillas, and among the ancillas; the second term is zero with one stream).

Memory (:mod:`collision.models.memory`).  The engines' state holds the subsystems and
the carried ancillas ``C``; per step the fresh ancillas join, the collisions (with ``C``)
and the ancilla-ancilla collisions act as one unitary, and the outgoing ancillas leave.
That is the step above with "the subsystems" read as subsystems + carried ancillas, so
every definition holds for that composite system unchanged: ``H`` is ``H x 1 + sum 1 x
H_r`` (the carried ancillas' energy included, :func:`engine_hamiltonian`), ``heat[r]``
the energy of the ancilla that leaves, ``work`` includes the switching work of the
ancilla-ancilla collisions, and ``entropy`` and ``Sigma`` are those of subsystems +
carried ancillas (``Sigma`` is then the correlations the step creates between them and
the leaving ancillas plus the leaving ancillas' relative entropy, ``>= 0``).  Entropy
production of the subsystems alone is not defined here: the carried ancilla's entropy
changes are reservoir entropy that has not left yet.

Cumulative versions are step sums over ``[0, t)`` (every step, not only the saved ones),
in energy and nats, not per unit time: ``heat_total[r]`` ``= sum Q_r dt``, ``work_total``
``= E(t) - E(0) + sum_r heat_total[r]`` and ``entropy_production_total = S(t) - S(0) +
sum_r Tr[(n eta_r - sum_steps rho'_r) ln eta_r]`` (``n`` steps), exact telescoping sums.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lindblad._tabular import data_frame, fmt, html_table, text_summary

from . import thermo_machines as _machines
from ._kernels.general import entropy
from .plans.general import TRACE, GeneralPlan

#: Eigenvalues of an ancilla state at or below this count as zero (``ln eta``).
ZERO_EIGENVALUE = 1e-14
#: Weight of a leaving ancilla outside its stream's support still taken as rounding.
LEAK = 1e-12
#: Largest entry of ``eta - exp(-beta H_A) / Z`` for a stream to count as thermal.
THERMAL_TOL = 1e-10


@dataclass
class Ledger:
    """The thermodynamic ledger of a run at its saved times (module docstring).

    Attributes
    ----------
    energy, entropy : ndarray, shape (n_t,)
        ``<H>`` and the von Neumann entropy (nats) of the subsystems at ``t``
        (``entropy`` is ``None`` for trajectories: not an expectation value).
    work : ndarray, shape (n_t,), or None
        Switching work per unit time over the step from ``t`` (``None`` when a stream
        has no Hamiltonian).
    entropy_production : ndarray, shape (n_t,), or None
        ``Sigma`` per unit time over the step from ``t`` (nats per unit time); ``None``
        for trajectories.
    entropy_production_clausius : ndarray, shape (n_t,), or None
        ``dS/dt + sum_r beta_r Q_r`` (all streams thermal, density engine), else ``None``.
    relative_entropy : dict of str to ndarray, shape (n_t,), or None
        ``D(rho'_r || eta_r) / dt`` per stream (``None`` for trajectories).
    correlations : ndarray, shape (n_t,), or None
        ``Sigma - sum_r relative_entropy[r]`` (NaN where a relative entropy is infinite;
        ``None`` for trajectories).
    beta : dict of str to float or None
        Inverse temperature of each thermal stream (``None``: not thermal).
    heat_total : dict of str to ndarray, shape (n_t,)
        ``Q_r(t)``: energy into stream ``r`` over ``[0, t)``.
    work_total, entropy_production_total : ndarray, shape (n_t,), or None
        ``W(t)`` (``None`` with ``work``) and ``Sigma(t)`` over ``[0, t)`` (``None`` for
        trajectories).
    parameters : dict
    heat : dict of str to ndarray, shape (n_t,)
        ``Q_r`` per unit time over the step from ``t`` (the Result's ``heat``), so that
        the ledger is complete on its own (:meth:`efficiency` and friends).
    stderr : LedgerErrors or None
        Standard errors of the expectation-value quantities (trajectories), else
        ``None``.
    in_flight_energy : ndarray, shape (n_t,), or None
        With delay (:mod:`collision.thermo_delay`): the energy the ancillas in flight
        between two collisions have taken up, included in ``energy``; ``None`` without
        delay.

    Trajectories (``method="trajectories"``) estimate the quantities that are
    expectation values -- ``energy``, ``heat``, ``work``, ``heat_total``,
    ``work_total`` -- as means over trajectories with standard errors (``stderr``).  The
    entropies are functions of the density matrix, not averages over trajectories: their
    fields are ``None`` there (run the density engine for them).
    """

    energy: np.ndarray
    entropy: np.ndarray | None
    work: np.ndarray | None
    entropy_production: np.ndarray | None
    entropy_production_clausius: np.ndarray | None
    relative_entropy: dict[str, np.ndarray] | None
    correlations: np.ndarray | None
    beta: dict[str, float | None]
    heat_total: dict[str, np.ndarray]
    work_total: np.ndarray | None
    entropy_production_total: np.ndarray | None
    parameters: dict = field(default_factory=dict)
    heat: dict[str, np.ndarray] = field(default_factory=dict)
    stderr: LedgerErrors | None = None
    in_flight_energy: np.ndarray | None = None

    def efficiency(self, hot: str, cold: str, over: str = "steady") -> float:
        """Heat-engine efficiency ``-W / (-Q_hot)`` (:mod:`collision.thermo_machines`):
        ``over="steady"`` the last saved step's rates, ``"total"`` the cumulative sums.
        ``ValueError`` when the model does not run as an engine (``W >= 0`` or no heat
        from the hot stream)."""
        return _machines.efficiency(self, hot, cold, over)

    def coefficient_of_performance(self, cold: str, over: str = "steady") -> float:
        """Refrigerator coefficient of performance ``-Q_cold / W``
        (:mod:`collision.thermo_machines`); ``ValueError`` when the model does not run as
        a refrigerator (``W <= 0`` or no heat from the cold stream)."""
        return _machines.coefficient_of_performance(self, cold, over)

    def carnot_efficiency(self, hot: str, cold: str) -> float:
        """``1 - beta_hot / beta_cold`` from the streams' ``beta``."""
        return _machines.carnot_efficiency(self, hot, cold)

    def carnot_cop(self, hot: str, cold: str) -> float:
        """``beta_hot / (beta_cold - beta_hot)`` from the streams' ``beta``."""
        return _machines.carnot_cop(self, hot, cold)

    # --- notebooks -----------------------------------------------------------------------
    def _columns(self) -> dict[str, np.ndarray]:
        """Every array of the ledger as a named column (``None`` fields left out), with
        ``<name>_stderr`` after each quantity that has a standard error."""
        cols = {"energy": self.energy, "in_flight_energy": self.in_flight_energy,
                "entropy": self.entropy, **_per_stream("heat", self.heat), "work": self.work,
                "entropy_production": self.entropy_production,
                "entropy_production_clausius": self.entropy_production_clausius,
                **_per_stream("relative_entropy", self.relative_entropy),
                "correlations": self.correlations, **_per_stream("heat_total", self.heat_total),
                "work_total": self.work_total,
                "entropy_production_total": self.entropy_production_total}
        if self.stderr is not None:
            err = self.stderr
            errors = {"energy": err.energy, "in_flight_energy": err.in_flight_energy,
                      **_per_stream("heat", err.heat), "work": err.work,
                      **_per_stream("heat_total", err.heat_total), "work_total": err.work_total}
            cols = {k2: v2 for k, v in cols.items()
                    for k2, v2 in ((k, v), (f"{k}_stderr", errors.get(k)))}
        return {k: v for k, v in cols.items() if v is not None}

    def to_pandas(self, t: np.ndarray | None = None):
        """The ledger as a :class:`pandas.DataFrame`, one row per saved time.

        Parameters
        ----------
        t : ndarray, shape (n_t,), optional
            The saved times (``result.t`` of the run that holds the ledger), written as
            the first column ``t``; without it the rows are the saved times in order.

        Returns
        -------
        pandas.DataFrame
            Columns ``t``, ``energy``, ``in_flight_energy``, ``entropy``,
            ``heat[STREAM]``, ``work``, ``entropy_production``,
            ``entropy_production_clausius``, ``relative_entropy[STREAM]``,
            ``correlations``, ``heat_total[STREAM]``, ``work_total``,
            ``entropy_production_total`` (a field that is ``None`` is left out), each
            followed by ``<name>_stderr`` where trajectories give a standard error;
            ``attrs["parameters"]`` (with ``"beta"``, the streams' inverse temperatures).

        Raises
        ------
        ImportError
            When pandas is not installed.
        ValueError
            When ``t`` does not have one entry per saved time.
        """
        cols = self._columns()
        if t is not None:
            t = np.asarray(t, dtype=float)
            if t.shape != self.energy.shape:
                raise ValueError(f"t must have one entry per saved time of the ledger, "
                                 f"shape {self.energy.shape}; got shape {t.shape}")
            cols = {"t": t, **cols}
        return data_frame(cols, {**self.parameters, "beta": dict(self.beta)})

    def _rows(self, totals_only: bool = False) -> list[tuple[str, str]]:
        """``(column, value at the last saved time)``; ``totals_only``: the energy and
        the cumulative sums (the text repr's short list)."""
        if not self.energy.size:
            return []
        return [(k, fmt(v[-1])) for k, v in self._columns().items()
                if not totals_only or k.startswith(("energy", "in_flight", "heat_total",
                                                    "work_total", "entropy_production_total"))]

    def _repr_html_(self) -> str:
        pairs = [("saved times", str(self.energy.size)),
                 ("beta", ", ".join(f"{r}: {fmt(b)}" for r, b in self.beta.items()))]
        return html_table("Ledger", pairs, ["quantity", "at the last saved time"],
                          self._rows())

    def __repr__(self) -> str:
        return text_summary("Ledger", [("saved_times", self.energy.size)],
                            self._rows(totals_only=True))


@dataclass
class LedgerErrors:
    """Standard errors of a trajectory ledger's expectation-value quantities (the fields
    of :class:`Ledger` with the same names and shapes; ``work``, ``work_total``,
    ``in_flight_energy`` ``None`` with the ledger's)."""

    energy: np.ndarray
    heat: dict[str, np.ndarray]
    work: np.ndarray | None
    heat_total: dict[str, np.ndarray]
    work_total: np.ndarray | None
    in_flight_energy: np.ndarray | None = None


def _per_stream(name: str, values: dict | None) -> dict[str, np.ndarray]:
    """``{"name[stream]": array}``: the columns of a per-stream field."""
    return {f"{name}[{r}]": v for r, v in (values or {}).items()}


def thermal_beta(eta: np.ndarray, h: np.ndarray | None, tol: float = THERMAL_TOL):
    """``beta`` with ``eta = exp(-beta h) / Z`` to ``tol`` (largest entry), or ``None``.

    ``None`` without a Hamiltonian and for a state that is not of full rank (zero
    temperature: the Clausius form is ``inf * 0`` there); ``0.0`` for ``h`` proportional
    to the identity and ``eta = 1/d``.  ``beta`` is the least-squares slope of ``-ln p_i``
    against the levels ``E_i`` of ``h``, then the whole matrix is compared.
    """
    if h is None:
        return None
    levels, vecs = np.linalg.eigh((h + h.conj().T) / 2)
    pops = np.real(np.einsum("ai,ab,bi->i", vecs.conj(), eta, vecs))
    if np.any(pops <= ZERO_EIGENVALUE):
        return None
    spread = levels - levels.mean()
    if np.max(np.abs(spread)) <= 1e-14 * max(1.0, np.max(np.abs(levels))):
        beta = 0.0
    else:
        beta = -float(np.dot(spread, np.log(pops)) / np.dot(spread, spread))
    weights = np.exp(-beta * (levels - levels.min()))
    candidate = (vecs * (weights / weights.sum())) @ vecs.conj().T
    return beta if np.max(np.abs(candidate - eta)) <= tol else None


def _log_support(eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``ln eta`` on its support and the projector on its kernel (module docstring)."""
    p, v = np.linalg.eigh((eta + eta.conj().T) / 2)
    keep = p > ZERO_EIGENVALUE
    log = (v[:, keep] * np.log(p[keep])) @ v[:, keep].conj().T
    kernel = v[:, ~keep] @ v[:, ~keep].conj().T
    return log, kernel


def traced_streams(plan: GeneralPlan) -> list[tuple[int, int]]:
    """``(stream index, ancilla dimension)`` of every stream whose ancilla leaves in a step
    (the streams with a collision)."""
    p = plan.program
    return [(int(r), int(d)) for k, r, d in zip(p.kind, p.stream, p.d_loc, strict=True)
            if k == TRACE]


def check_ledger(plan: GeneralPlan, method: str) -> None:
    """Refuse the ledger where it is not defined (before any work)."""
    if method not in ("density", "trajectories"):
        raise ValueError("thermodynamics=True needs method='density' or 'trajectories', "
                         f"got method={method!r}")


def _ancilla_terms(state: np.ndarray, eta: np.ndarray, count: float) -> tuple[float, float]:
    """``Tr[(count eta - state) ln eta]`` and ``-Tr[state ln eta]``, ``+inf`` when
    ``state`` leaves ``eta``'s support (module docstring)."""
    log, kernel = _log_support(eta)
    leak = float(np.real(np.trace(kernel @ state)))
    if leak > LEAK * max(count, 1.0):
        return np.inf, np.inf
    cross = -float(np.real(np.trace(state @ log)))
    return float(np.real(np.trace(eta @ log))) * count + cross, cross


def assemble(plan: GeneralPlan, system: np.ndarray, anc: np.ndarray,
             cum: np.ndarray) -> Ledger:
    """The :class:`Ledger` from the engine's records at the saved times.

    Parameters
    ----------
    plan : GeneralPlan
    system : ndarray, shape (n_t, 4)
        ``(E, S)`` before and ``(E, S)`` after the step from each saved time.
    anc : ndarray, shape (n_t, n_streams, d_max, d_max)
        The leaving ancillas' reduced states in that step.
    cum : ndarray, shape (n_t, n_streams, d_max, d_max)
        Their sums over every step before the saved time.
    """
    dt = plan.dt
    n_t = system.shape[0]
    steps = np.arange(n_t) * plan.save_every
    d_s = (system[:, 3] - system[:, 1]) / dt
    sigma = d_s.copy()
    sigma_total = system[:, 1] - system[0, 1] if n_t else np.zeros(0)
    sigma_total = sigma_total.copy()
    flow = np.zeros(n_t)
    heat_sum = np.zeros(n_t)
    heat_total_sum = np.zeros(n_t)
    relative, heat_total, beta = {}, {}, {}
    all_energy = True
    for r, d in traced_streams(plan):
        name = plan.streams[r]
        eta, h = plan.etas[r, :d, :d], plan.stream_energies[r, :d, :d]
        has = bool(plan.has_energy[r])
        all_energy &= has
        beta[name] = thermal_beta(eta, h if has else None)
        rel = np.zeros(n_t)
        for k in range(n_t):
            state = anc[k, r, :d, :d]
            term, cross = _ancilla_terms(state, eta, 1.0)
            sigma[k] += term / dt
            rel[k] = (cross - entropy(np.ascontiguousarray(state))) / dt
            sigma_total[k] += _ancilla_terms(cum[k, r, :d, :d], eta, float(steps[k]))[0]
        relative[name] = rel
        if has:
            q = (np.real(np.einsum("kab,ba->k", anc[:, r, :d, :d], h))
                 - plan.fresh_energy[r]) / dt
            heat_sum += q
            total = np.real(np.einsum("kab,ba->k", cum[:, r, :d, :d], h)) \
                - steps * plan.fresh_energy[r]
            heat_total[name] = total
            heat_total_sum += total
            if beta[name] is not None:
                flow += beta[name] * q
    thermal = bool(beta) and all(b is not None for b in beta.values())
    energy = system[:, 0].copy()
    work = (system[:, 2] - system[:, 0]) / dt + heat_sum if all_energy else None
    work_total = energy - energy[0] + heat_total_sum if all_energy and n_t else None
    return Ledger(energy=energy, entropy=system[:, 1].copy(), work=work,
                  entropy_production=sigma,
                  entropy_production_clausius=d_s + flow if thermal else None,
                  relative_entropy=relative,
                  correlations=_rest(sigma, sum(relative.values(), np.zeros(n_t))),
                  beta=beta,
                  heat_total=heat_total, work_total=work_total,
                  entropy_production_total=sigma_total)


def _rest(sigma: np.ndarray, relative: np.ndarray) -> np.ndarray:
    """``sigma - relative``, NaN where both are infinite (the split is then unknown)."""
    out = np.full(sigma.shape, np.nan)
    ok = np.isfinite(relative)
    out[ok] = sigma[ok] - relative[ok]
    return out


def engine_hamiltonian(plan: GeneralPlan) -> np.ndarray:
    """The ledger's energy operator on the engines' state, ``(D, D)`` complex: the
    subsystems' Hamiltonian (zero without one) and, with memory, ``+ 1 x H_r`` on every
    carried ancilla of stream ``r`` (zero when the stream has no Hamiltonian)."""
    h = np.zeros((plan.system_dim,) * 2, dtype=np.complex128) if plan.hamiltonian is None \
        else np.asarray(plan.hamiltonian, dtype=np.complex128)
    dims = [plan.system_dim, *plan.carried_dims]
    total = np.kron(h, np.eye(plan.dim // plan.system_dim))
    for k, r in enumerate(plan.carried_streams):
        d = dims[k + 1]
        before, after = int(np.prod(dims[:k + 1])), int(np.prod(dims[k + 2:]))
        total = total + np.kron(np.kron(np.eye(before), plan.stream_energies[r, :d, :d]),
                                np.eye(after))
    return np.ascontiguousarray(total)


def ledger_buffers(plan: GeneralPlan) -> tuple[np.ndarray, ...]:
    """``(h_sys, out_system, out_anc, out_cum, acc)`` for the density kernels."""
    n_t, k, d = plan.times.size, len(plan.streams), plan.etas.shape[1]
    return (engine_hamiltonian(plan), np.zeros((n_t, 4)),
            np.zeros((n_t, k, d, d), dtype=np.complex128),
            np.zeros((n_t, k, d, d), dtype=np.complex128),
            np.zeros((k, d, d), dtype=np.complex128))


def geometric_sum(a: np.ndarray, m: int) -> np.ndarray:
    """``sum_{j < m} a^j`` by doubling (``O(log m)`` products)."""
    eye = np.eye(a.shape[0], dtype=a.dtype)
    total, power = np.zeros_like(a), eye.copy()  # sum of the first `count`, a^count
    count = 0
    for bit in bin(m)[2:]:
        total, power, count = total + total @ power, power @ power, 2 * count
        if bit == "1":
            total, power, count = eye + a @ total, a @ power, count + 1
    return total


def superoperator_record(k: int, vec: np.ndarray, sup: np.ndarray, anc_rows: np.ndarray,
                         anc_sum_rows: np.ndarray, h: np.ndarray, buffers: tuple) -> None:
    """Write saved time ``k`` of the ledger from ``vec(rho)`` (superoperator scheme):
    ``anc_rows`` give the leaving ancillas' states after one step, ``anc_sum_rows`` their
    sum over the ``save_every`` steps to the next saved time."""
    _, system, anc, cum, acc = buffers
    dim = h.shape[0]
    rho = vec.reshape(dim, dim)
    after = (sup @ vec).reshape(dim, dim)
    system[k] = (np.real(np.trace(h @ rho)), entropy(np.ascontiguousarray(rho)),
                 np.real(np.trace(h @ after)), entropy(np.ascontiguousarray(after)))
    anc[k] = (anc_rows @ vec).reshape(anc.shape[1:])
    cum[k] = acc
    acc += (anc_sum_rows @ vec).reshape(acc.shape)
