"""The cascaded master equation (paper eqs 1-8), solved exactly.

For a chain S1 -> S2 -> ... -> Sn of identical subsystems with ladder operators
``a_i`` (``sigma_-`` for qubits) the generator is::

    L rho = -i [H, rho] + sum_i L_i rho + sum_{i<j} D_ij rho,

    L_i  = g_dn L[a_i] + g_up L[a_i^dag],   L[c] rho = c rho c^dag - {c^dag c, rho}/2,
    D_ij = g_dn (a_i [rho, a_j^dag] + [a_j, rho] a_i^dag)
         + g_up (a_i^dag [rho, a_j] + [a_j^dag, rho] a_i),

with the rates ``(g_dn, g_up)`` of :func:`lindblad.thermal.bath_rates`.  For n = 2 these
are exactly eqs 4-5 (boson bath) and 7-8 (qubit bath); ``cascade=False`` drops every
``D_ij`` (the independent-reservoirs model of Fig. 1b).

Exact propagation.  Every term conserves the ket-bra excitation difference
``m = n(ket) - n(bra)``, so the Liouvillian is block diagonal in ``m``.  Each occupied
block is propagated with ``scipy.sparse.linalg.expm_multiply`` (Al-Mohy & Higham's
truncated Taylor scheme with backward-error control at double precision) - no
fixed-step integrator.  Heat fluxes only need the ``m = 0`` block (populations and
coherences between states of equal excitation number), which for two oscillators with
cutoff 20 has 5,340 entries instead of 160,000.

Vectorisation is row-major: ``vec(rho)[k * D + l] = rho[k, l]``, so that
``vec(A rho B) = (A kron B^T) vec(rho)``.
"""

from __future__ import annotations

import inspect

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ._propagate import DENSE_SECTOR_MAX, check_times, propagate  # noqa: F401 (re-exported)
from ._sectors import _Sector, _Term
from ._validate import (
    as_matrix,
    as_real,
    check_array_size,
    choice,
    flag,
    integer,
    real_scalar,
)
from .delay import evolve as delayed_evolve
from .delay import heat_fluxes as delayed_heat_fluxes
from .fluxes import HeatFluxes
from .master import MasterEquation
from .operators import (
    MAX_DIMENSION,
    check_dimension,
    embed,
    local_dimension,
    lowering,
    total_excitations,
    turn_subsystems,
)
from .resources import check_memory
from .states import density_matrix, product, thermal
from .thermal import BATHS, SYSTEMS, _check_positive, _check_temperature, bath_rates
from .tilted import heat_statistics as tilted_heat_statistics

#: Longest chain accepted by every model (a Gaussian chain's 2n x 2n covariance matrix
#: then takes 512 MiB; the Fock-space models are limited far earlier by ``MAX_DIMENSION``).
MAX_N_SYSTEMS = 4096
#: Latest time the exact references propagate to, in units of the chain's relaxation
#: time ``2 n_systems / (g_dn - g_up)``: by then every transient has decayed below the
#: smallest double (``exp(-1000)``), so later times are the steady state.
MAX_RELAXATION_TIMES = 1000.0
#: Largest Hilbert-space dimension for which the full D^2 x D^2 Liouvillian is built.
MAX_FULL_LIOUVILLIAN_DIM = 2048


class CascadeSpec:
    """Validated physical parameters shared by every model and engine of a cascade.

    Checks and stores ``system``, ``n_systems`` (an integer, 2 ... ``MAX_N_SYSTEMS``;
    integral floats such as 2.0 are accepted), ``gamma`` and ``omega`` (finite, > 0),
    ``temperature`` (finite, >= 0), ``bath`` (default "qubit" for qubits, "boson" for
    oscillators) and ``cascade`` (``True``/``False`` only); ``cutoff`` is kept as given
    (the Fock-space models validate it with :func:`lindblad.operators.local_dimension`).
    Bad values raise ``ValueError`` naming the parameter (rules in
    :mod:`lindblad._validate`: complex numbers, bools, strings and ``None`` are never
    numbers).  Subclasses get ``parameters`` (saved with every result) and a ``repr``
    listing ``_repr_keys``.
    """

    _repr_keys: tuple[str, ...] = ("system", "n_systems", "gamma", "omega", "temperature",
                                   "cutoff", "bath", "cascade")

    def __init__(self, system: str, n_systems: int = 2, gamma: float = 1.0,
                 omega: float = 1.0, temperature: float = 0.0, cutoff: int | None = None,
                 bath: str | None = None, cascade: bool = True, delay=0.0, phase=0.0):
        self.system = choice(system, "system", SYSTEMS)
        self.n_systems = self._check_n_systems(n_systems)
        if bath is None:
            bath = "qubit" if system == "qubit" else "boson"
        self.bath = choice(bath, "bath", BATHS, note=" (or None for the default)")
        self.gamma = _check_positive(gamma, "gamma")
        self.omega = _check_positive(omega, "omega")
        self.temperature = _check_temperature(temperature)
        self.cutoff = cutoff
        self.cascade = flag(cascade, "cascade")
        self.delay, self.delays = self._per_link(
            delay, "delay", 0.0, " (the travel time between consecutive subsystems, units "
            "1/gamma; inf: S_i's output never arrives)", infinite=True)
        self.phase, self.phases = self._per_link(
            phase, "phase", None, " (the phase the reservoir's field picks up between "
            "consecutive subsystems, radians)")

    def _per_link(self, value, name: str, minimum: float | None, note: str,
                  infinite: bool = False) -> tuple[float | list[float], tuple[float, ...]]:
        """A per-link parameter as recorded (a number, or a list with one entry per link)
        and as the tuple of its ``n_systems - 1`` values (``+inf`` allowed if
        ``infinite``)."""
        n_links = self.n_systems - 1

        def number(v, label: str) -> float:
            if infinite and as_real(v, label, note) == np.inf:
                return np.inf
            return real_scalar(v, label, minimum=minimum, note=note)

        if np.ndim(value) == 0 and not isinstance(value, (list, tuple)):
            one = number(value, name)
            recorded, values = one, (one,) * n_links
        else:
            items = list(value)
            if len(items) != n_links:
                raise ValueError(f"{name} must be one number or one per link: {n_links} "
                                 f"value(s) for a chain of {self.n_systems} subsystems, got "
                                 f"{len(items)}")
            values = tuple(number(d, f"{name}[{k}]") for k, d in enumerate(items))
            recorded = list(values)
        if any(values) and not self.cascade:
            raise ValueError(f"{name} applies to the cascade (cascade=True): with independent "
                             "reservoirs nothing travels between the subsystems")
        return recorded, values

    @property
    def frame_angles(self) -> np.ndarray:
        """``Phi_i``: the propagation phase S1's output has picked up when it reaches S_i
        (``Phi_1 = 0``), shape (n,).

        A phase ``phi`` on the link S_i -> S_{i+1} is the same as turning S_{i+1} (and
        everything downstream) by ``V = exp(-i phi n)``: with ``U_i`` the exchange
        collisions, ``U_{i+1} R U_i = R V U_{i+1} V^dag U_i`` (``R = exp(-i phi b^dag b)``
        on the ancilla), and ``V`` commutes with every collision of the other
        subsystems.  So the models run the phase-free cascade from ``V^dag rho0 V`` and
        turn the states back; fluxes, which depend on populations only, are unchanged by
        ``V`` itself.
        """
        return np.concatenate([[0.0], np.cumsum(self.phases)])

    @property
    def arrival_times(self) -> np.ndarray:
        """``T_i``: when the reservoir's output of S1 reaches S_i (``T_1 = 0``), shape (n,)."""
        return np.concatenate([[0.0], np.cumsum(self.delays)])

    def delays_within(self, horizon: float) -> tuple[float, ...]:
        """The link delays as they act on times in ``[0, horizon]`` (1/gamma).

        A delay ``tau_l > horizon`` (``inf`` included) is replaced by
        ``2 horizon + 1/gamma``: nothing S_l sends reaches S_{l+1} before ``tau_l``, so
        either way S_{l+1} sees only fresh input up to ``horizon`` and every result at
        those times is the same, exactly; the replacement keeps every arrival time
        finite and of the order of the run (``T_n <= (n - 1)(2 horizon + 1/gamma)``),
        whatever the delays (1e300, inf).
        """
        beyond = 2.0 * float(horizon) + 1.0 / self.gamma
        return tuple(beyond if tau > horizon else tau for tau in self.delays)

    def arrival_times_within(self, horizon: float) -> np.ndarray:
        """:attr:`arrival_times` of :meth:`delays_within` ``(horizon)``, shape (n,)."""
        return np.concatenate([[0.0], np.cumsum(self.delays_within(horizon))])

    @classmethod
    def _check_n_systems(cls, n_systems) -> int:
        try:
            n = integer(n_systems, "n_systems", 2, " (a chain S1 -> S2 -> ...)")
        except ValueError as exc:
            if isinstance(n_systems, str) and \
                    "system" not in inspect.signature(cls.__init__).parameters:
                raise ValueError(f"{exc}; {cls.__name__} takes no system argument: it always "
                                 "describes oscillators, and its first argument is "
                                 "n_systems") from None
            raise
        if n > MAX_N_SYSTEMS:
            raise ValueError(f"n_systems must be <= {MAX_N_SYSTEMS} (lindblad.model."
                             f"MAX_N_SYSTEMS), got {n}")
        return n

    def _relaxation_time(self) -> float:
        """Relaxation time of the whole chain, ``2 n_systems / (g_dn - g_up)`` (1/gamma units).

        ``(g_dn - g_up)/2`` is the slowest decay rate of one subsystem (the amplitude
        ``<a>`` of an oscillator; a qubit relaxes at least as fast) and each link of the
        cascade adds about one such time.  Infinite if ``g_dn == g_up`` (numerically
        infinite temperature).
        """
        g_dn, g_up = bath_rates(self.bath, self.gamma, self.temperature, self.omega)
        return 2.0 * self.n_systems / (g_dn - g_up) if g_dn > g_up else float("inf")

    def _check_times(self, times, name: str = "times") -> np.ndarray:
        """:func:`check_times`, plus ``times <= MAX_RELAXATION_TIMES * _relaxation_time()``."""
        t = check_times(times, name)
        tau = self._relaxation_time()
        limit = MAX_RELAXATION_TIMES * tau + float(np.sum(self.delays))
        if t[-1] > limit:
            raise ValueError(f"{name} must be <= {limit:.6g}, i.e. "
                             f"{MAX_RELAXATION_TIMES:g} relaxation times 2 n_systems / "
                             f"(g_dn - g_up) = {tau:.4g} after the last subsystem is reached "
                             f"(delays {sum(self.delays):.4g}), got a largest time "
                             f"{t[-1]:.6g}: every state has reached the steady state to double "
                             "precision long before; use steady_state() for later times")
        return t

    @property
    def parameters(self) -> dict:
        """The physical parameters (saved with every result)."""
        return {"system": self.system, "n_systems": self.n_systems, "gamma": self.gamma,
                "omega": self.omega, "temperature": self.temperature, "cutoff": self.cutoff,
                "bath": self.bath, "cascade": self.cascade, "delay": self.delay,
                "phase": self.phase}

    @classmethod
    def from_parameters(cls, parameters: dict):
        """The model described by ``parameters``: a model's ``.parameters`` or a result's
        ``.parameters`` (keys that are not constructor arguments, such as ``dt`` or
        ``method``, are ignored).

        ``Model.from_parameters(model.parameters)`` gives an equal model.  From a
        collision result it gives the model with the bath cutoff that run used.
        """
        import inspect

        names = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
        if not isinstance(parameters, dict):
            raise ValueError(f"parameters must be a dict (a model's or a result's "
                             f".parameters), got {type(parameters).__name__}")
        missing = [p for p in names[:1] if p not in parameters]
        if missing:
            raise ValueError(f"parameters lack {missing[0]!r}: they do not describe a "
                             f"{cls.__name__}")
        return cls(**{k: parameters[k] for k in names if k in parameters})

    def __repr__(self) -> str:
        params = self.parameters
        keys = self._repr_keys + (("delay",) if any(self.delays) else ()) \
            + (("phase",) if any(self.phases) else ())
        args = ", ".join(f"{k}={params[k]!r}" for k in keys)
        return f"{type(self).__name__}({args})"


class CascadeMasterEquation(CascadeSpec):
    """Exact Lindblad reference for a cascade of identical qubits or oscillators.

    Parameters
    ----------
    system : {"qubit", "oscillator"}
        Kind of subsystem.  Qubits have ``H_i = (omega/2) sigma_z``, oscillators
        ``H_i = omega a_i^dag a_i`` truncated to ``cutoff`` Fock levels.
    n_systems : int
        Length of the chain, >= 2.
    gamma : float
        Relaxation rate of each subsystem alone; time is in units of 1/gamma.
    omega : float
        Transition frequency (energy unit hbar omega).
    temperature : float
        Reservoir temperature in units of hbar omega / k_B, >= 0.
    cutoff : int, optional
        Fock dimension per oscillator (required for oscillators, None for qubits).
    bath : {"qubit", "boson"}, optional
        Reservoir ancillas; default "qubit" for qubits and "boson" for oscillators.
    cascade : bool
        False removes the cascade terms ``D_ij`` (independent reservoirs, Fig. 1b).

    Notes
    -----
    The joint dimension ``D = d**n_systems`` is limited to
    :data:`lindblad.operators.MAX_DIMENSION` (4096: 12 qubits, or two oscillators with
    cutoff 64), because dense ``D x D`` matrices are kept; larger chains raise
    ``ValueError``.  Times are limited to ``MAX_RELAXATION_TIMES`` relaxation times
    (see :meth:`CascadeSpec._check_times`).
    """

    def __init__(self, system: str, n_systems: int = 2, gamma: float = 1.0, omega: float = 1.0,
                 temperature: float = 0.0, cutoff: int | None = None, bath: str | None = None,
                 cascade: bool = True, delay=0.0, phase=0.0):
        super().__init__(system, n_systems, gamma, omega, temperature, cutoff, bath, cascade,
                         delay, phase)
        d = local_dimension(system, cutoff)
        self.cutoff = d if system == "oscillator" else None
        self.dims = (d,) * self.n_systems
        self.dim = check_dimension(system, cutoff, self.n_systems, MAX_DIMENSION,
                                   type(self).__name__)
        self.rates = bath_rates(self.bath, self.gamma, self.temperature, self.omega)
        self._a = [embed(lowering(d), i, self.dims) for i in range(self.n_systems)]
        self._n = total_excitations(self.dims)
        self._local_terms = [self._dissipator_terms(i) for i in range(self.n_systems)]
        self._cascade_terms = {(i, j): self._cascade_pair_terms(i, j)
                               for j in range(self.n_systems) for i in range(j)} \
            if self.cascade else {}
        self._sectors: dict[int, _Sector] = {}
        self._flux_weights: tuple[np.ndarray, np.ndarray] | None = None

    # --- operators ------------------------------------------------------------------
    def _site(self, i: int) -> int:
        """A 0-based subsystem index; negative values count from the end, as in Python."""
        n = self.n_systems
        k = integer(i, "i", -n, note=f" and < {n} (0-based subsystem index)")
        if k >= n:
            raise ValueError(f"i must be an integer >= {-n} and < {n} (0-based subsystem "
                             f"index), got {i!r}")
        return k % n

    def lowering_operator(self, i: int) -> sp.csr_matrix:
        """``a_i`` (or ``sigma_-`` of qubit i) on the joint space, 0-based ``i``."""
        return self._a[self._site(i)]

    def local_hamiltonian(self, i: int) -> sp.csr_matrix:
        """``H_i``: ``omega a^dag a`` (oscillator) or ``(omega/2) sigma_z`` (qubit)."""
        a = self._a[self._site(i)]
        num = (a.conj().T @ a).tocsr()
        if self.system == "qubit":
            return (self.omega * (num - 0.5 * sp.identity(self.dim, format="csr"))).tocsr()
        return (self.omega * num).tocsr()

    def hamiltonian(self) -> sp.csr_matrix:
        """Free Hamiltonian ``H = sum_i H_i``."""
        return sum((self.local_hamiltonian(i) for i in range(self.n_systems)),
                   sp.csr_matrix((self.dim, self.dim), dtype=complex)).tocsr()

    # --- superoperator terms --------------------------------------------------------
    def _dissipator_terms(self, i: int) -> list[_Term]:
        g_dn, g_up = self.rates
        a = self._a[i]
        ad = a.conj().T.tocsr()
        eye = sp.identity(self.dim, format="csr", dtype=complex)
        terms = []
        for g, c, cd in ((g_dn, a, ad), (g_up, ad, a)):
            if g == 0.0:
                continue
            cdc = (cd @ c).tocsr()
            terms += [_Term(g, c, cd), _Term(-g / 2, cdc, eye), _Term(-g / 2, eye, cdc)]
        return terms

    def _cascade_pair_terms(self, i: int, j: int) -> list[_Term]:
        """``D_ij`` for i upstream of j."""
        g_dn, g_up = self.rates
        ai, aj = self._a[i], self._a[j]
        aid, ajd = ai.conj().T.tocsr(), aj.conj().T.tocsr()
        eye = sp.identity(self.dim, format="csr", dtype=complex)
        terms = []
        for g, x, xd, y, yd in ((g_dn, ai, aid, aj, ajd), (g_up, aid, ai, ajd, aj)):
            if g == 0.0:
                continue
            # x [rho, y^dag] + [y, rho] x^dag
            terms += [_Term(g, x, yd), _Term(-g, (x @ yd).tocsr(), eye),
                      _Term(g, y, xd), _Term(-g, eye, (y @ xd).tocsr())]
        return terms

    def _hamiltonian_terms(self) -> list[_Term]:
        h = self.hamiltonian()
        eye = sp.identity(self.dim, format="csr", dtype=complex)
        return [_Term(-1j, h, eye), _Term(1j, eye, h)]

    def _all_terms(self) -> list[_Term]:
        terms = self._hamiltonian_terms()
        for t in self._local_terms:
            terms += t
        for t in self._cascade_terms.values():
            terms += t
        return terms

    # --- Liouvillian ------------------------------------------------------------------
    def liouvillian(self) -> sp.csr_matrix:
        """The full generator as a sparse ``(D^2, D^2)`` matrix.

        Row-major vectorisation: ``vec(rho)[k*D + l] = rho[k, l]``, so
        ``d vec(rho)/dt = L @ vec(rho)`` and ``vec(A rho B) = kron(A, B.T) vec(rho)``.
        """
        if self.dim > MAX_FULL_LIOUVILLIAN_DIM:
            raise ValueError(f"the full Liouvillian of a D = {self.dim} system has D^2 = "
                             f"{self.dim**2} rows; build it only for D <= "
                             f"{MAX_FULL_LIOUVILLIAN_DIM} (evolve() and heat_fluxes() use the "
                             "excitation-number blocks and do not need it)")
        out = sp.csr_matrix((self.dim**2, self.dim**2), dtype=complex)
        for term in self._all_terms():
            out = out + term.coef * sp.kron(term.left, term.right.T, format="csr")
        out.eliminate_zeros()
        return out.tocsr()

    def to_master_equation(self) -> MasterEquation:
        """This cascade as a general :class:`lindblad.MasterEquation` (the Lindblad form
        of DESIGN.md, for peers such as QuTiP).

        With ``A = sum_i e^{i Phi_i} a_i`` (``Phi_i`` the propagation phases,
        :attr:`frame_angles`; all zero by default) the jumps are ``sqrt(g_dn) A`` and
        ``sqrt(g_up) A^dag``, and the Hamiltonian is ``sum_i H_i + H_c`` with
        ``H_c = i (g_dn - g_up)/2 sum_{i<j} (b_i^dag b_j - b_j^dag b_i)``,
        ``b_i = e^{i Phi_i} a_i``.  With ``cascade=False`` the jumps are every
        ``sqrt(g_dn) a_i`` and ``sqrt(g_up) a_i^dag`` and ``H_c = 0``.  Jumps with a zero
        rate (``g_up`` at T = 0) are left out.  Without phases the Liouvillian equals
        :meth:`liouvillian`; with phases it generates :meth:`evolve` (the phase-free
        cascade seen in the turned frame).

        Raises
        ------
        ValueError
            If the model has a delay: a travel time makes the dynamics non-Markovian,
            with no Lindblad generator.
        """
        if any(self.delays):
            raise ValueError("a cascade with delay has no Lindblad form (the travel time makes "
                             "it non-Markovian); to_master_equation() needs delay=0")
        g_dn, g_up = self.rates
        b = [np.exp(1j * phi) * a for phi, a in zip(self.frame_angles, self._a, strict=True)]
        h = self.hamiltonian().astype(complex)
        groups = [b] if self.cascade else [[x] for x in b]
        if self.cascade:
            for j in range(self.n_systems):
                for i in range(j):
                    hop = b[i].conj().T @ b[j]
                    h = h + 0.5j * (g_dn - g_up) * (hop - hop.conj().T)
        jumps = []
        for group in groups:
            total = sum(group[1:], group[0])
            jumps += [np.sqrt(g) * c for g, c in ((g_dn, total), (g_up, total.conj().T))
                      if g > 0]
        return MasterEquation(h, jumps, dims=list(self.dims))

    def sector(self, m: int) -> _Sector:
        """The block of the Liouvillian acting on entries ``rho[k, l]`` with
        ``n(k) - n(l) = m`` (cached)."""
        m = integer(m, "m")
        if m not in self._sectors:
            self._sectors[m] = _Sector.build(self._n, m, self._all_terms())
        return self._sectors[m]

    # --- dynamics -------------------------------------------------------------------------
    def _check_state(self, rho0) -> np.ndarray:
        """``rho0`` in any form of :func:`lindblad.states.state_form` (a ``(D, D)``
        matrix, a state vector, the local states of a product) as a validated
        ``(D, D)`` density matrix."""
        return density_matrix(rho0, self.dims, name="rho0")

    def evolve(self, rho0, times) -> np.ndarray:
        """Exact density matrices at ``times``.

        Parameters
        ----------
        rho0 : array_like, shape (D, D) or (D,), or a list of n (d, d) arrays
            Initial state at t = 0 (validated): a density matrix, a state vector or
            the local states of a product (:func:`lindblad.states.state_form`).
        times : array_like, shape (n_t,)
            Non-decreasing times >= 0 (units of 1/gamma).

        Returns
        -------
        ndarray, shape (n_t, D, D), complex
        """
        t = self._check_times(times)
        copies = 3 if any(self.delays) else 2  # the output, one sector's propagation / phases
        check_array_size((copies * t.size, self.dim, self.dim), 16,
                         f"evolve() with {t.size} times in dimension D = {self.dim}",
                         "; pass fewer times, or use heat_fluxes(), which stores no states")
        rho0 = self._check_state(rho0)
        if any(self.phases):  # run without the phase from V^dag rho0 V (frame_angles)
            angles = self.frame_angles
            rho0 = turn_subsystems(rho0, self.dims, angles, inverse=True)
            return turn_subsystems(self._evolve(rho0, t), self.dims, angles)
        return self._evolve(rho0, t)

    def _evolve(self, rho0: np.ndarray, t: np.ndarray) -> np.ndarray:
        if any(self.delays):
            return delayed_evolve(self, rho0, t)
        out = np.zeros((t.size, self.dim, self.dim), dtype=complex)
        diff = self._n[:, None] - self._n[None, :]
        for m in np.unique(diff[np.abs(rho0) > 0]):
            sec = self.sector(int(m))
            out[:, sec.ket, sec.bra] = sec.propagate(rho0[sec.ket, sec.bra], t)
        return out

    def check_memory(self, what: str, n_times: int, per_time: float = 0.0,
                     block_per_time: bool = True) -> None:
        """Refuse, before any work, a computation at ``n_times`` times whose arrays
        exceed the memory limit (:mod:`lindblad.resources`): the ``m = 0`` block at every
        time (``16 S`` bytes, ``S = sum_N c_N^2`` for ``c_N`` basis states with ``N``
        excitations; ``2 n - 1`` times as many process times with delays), the fluxes,
        and ``per_time`` more bytes per time (e.g. counting histograms);
        ``block_per_time=False`` for a computation that keeps the block at one time
        only."""
        counts = np.bincount(self._n)
        block = float(np.sum(counts.astype(float) ** 2))
        grid = (2 * self.n_systems - 1 if any(self.delays) else 1) * n_times
        if not block_per_time:
            grid = 1 + self.n_systems  # one column per initial block
        needs = {"the m = 0 block" + (" at every time" if block_per_time else ""):
                 16.0 * block * grid,
                 "fluxes": 8.0 * 6 * self.n_systems * n_times,
                 "per-time results": float(per_time) * n_times,
                 "the dense initial state": 16.0 * self.dim**2}
        check_memory(needs, f"{what} with {n_times} times (D = {self.dim})",
                     "pass fewer times")

    def flux_operators(self) -> tuple[list[sp.csr_matrix], list[sp.csr_matrix]]:
        """Observables whose expectation values are the heat fluxes.

        Returns ``(local, correlated)``, lists of ``n_systems`` sparse ``(D, D)`` matrices
        with ``J_local[i] = Tr[rho local[i]]`` and ``J_corr[i] = Tr[rho correlated[i]]``:
        ``local[i] = -L_i^dag(H_i)`` (eq 13) and ``correlated[j] = -sum_{i<j} D_ij^dag(H_j)``
        (eq 14), using ``Tr[H A rho B] = Tr[rho B H A]`` term by term.
        """
        def adjoint(terms: list[_Term], h: sp.csr_matrix) -> sp.csr_matrix:
            out = sp.csr_matrix((self.dim, self.dim), dtype=complex)
            for term in terms:
                out = out - term.coef * (term.right @ h @ term.left)
            return out.tocsr()

        local, correlated = [], []
        for j in range(self.n_systems):
            h = self.local_hamiltonian(j)
            local.append(adjoint(self._local_terms[j], h))
            cascade = [t for i in range(j) for t in self._cascade_terms.get((i, j), [])]
            correlated.append(adjoint(cascade, h))
        return local, correlated

    def flux_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """The flux operators as linear functionals of the ``m = 0`` block.

        Returns ``(w_local, w_corr)``, each of shape ``(n_systems, len(sector(0)))``, with
        ``J_local[i] = Re(w_local[i] @ v)`` where ``v = rho[sector.ket, sector.bra]``.  The
        flux operators conserve the excitation number, so no other block contributes.
        Computed once per model and cached.
        """
        if self._flux_weights is None:
            sec = self.sector(0)
            local, correlated = self.flux_operators()
            self._flux_weights = (np.array([sec.trace_weights(op) for op in local]),
                                  np.array([sec.trace_weights(op) for op in correlated]))
        return self._flux_weights

    def heat_fluxes(self, rho0, times) -> HeatFluxes:
        """Exact heat fluxes (units of hbar omega gamma, ``J = -dU/dt``) at ``times``.

        Only the ``m = 0`` excitation block is propagated (the flux operators conserve
        the excitation number), so this is much cheaper than :meth:`evolve`; use that
        when the states themselves are needed.
        """
        t = self._check_times(times)
        self.check_memory("heat_fluxes()", t.size)
        rho0 = self._check_state(rho0)
        if any(self.phases):  # the phase-free cascade from V^dag rho0 V (frame_angles)
            rho0 = turn_subsystems(rho0, self.dims, self.frame_angles, inverse=True)
        if any(self.delays):
            return delayed_heat_fluxes(self, rho0, t)
        sec = self.sector(0)
        v = sec.propagate(rho0[sec.ket, sec.bra], t)
        w_loc, w_cor = self.flux_weights()
        local = (v @ w_loc.T).real.T
        corr = (v @ w_cor.T).real.T
        return HeatFluxes(t, local, corr, parameters={"source": "lindblad", **self.parameters})

    def heat_statistics(self, rho0, times, method: str = "blocks"):
        """Full counting statistics of the heat delivered to the reservoir, exact.

        The ``dt -> 0`` limit of :meth:`collision.CascadeCollisionModel.heat_statistics`:
        the collective jumps ``A = sum_i a_i`` (``a_i`` each with independent reservoirs)
        carry the counting field of the tilted generator (:mod:`lindblad.tilted`).

        Parameters
        ----------
        rho0 : array_like, shape (D, D) or (D,), or a list of n (d, d) arrays
            Initial state, in any form :meth:`evolve` takes.
        times : array_like
            Non-decreasing times >= 0 (1/gamma).
        method : {"blocks", "fourier"}
            Excitation-number blocks of the ordinary generator (default), or the
            generating function of the tilted generator and a discrete Fourier
            transform; both exact.

        Returns
        -------
        lindblad.counting.HeatStatistics
            ``P(q, t)`` on ``q = -n (d - 1) .. n (d - 1)``, cumulants in units of
            ``hbar omega``; with ``cascade=False`` also the joint distribution of the
            subsystems' heats.
        """
        return tilted_heat_statistics(self, rho0, times, method)

    def energies(self, rho) -> np.ndarray:
        """Local energies ``Tr[rho H_i]`` of a state, shape ``(n_systems,)``.

        ``rho`` must be a ``(D, D)`` matrix (array-like, Qobj or sparse); it is not checked
        to be a density matrix (the energy is linear in it).
        """
        rho = as_matrix(rho, "rho")
        if rho.shape != (self.dim, self.dim):
            raise ValueError(f"rho must be a ({self.dim}, {self.dim}) matrix for this model, "
                             f"got shape {rho.shape}")
        return np.array([np.real(np.sum(self.local_hamiltonian(i).diagonal() * np.diagonal(rho)))
                         for i in range(self.n_systems)])

    def steady_state(self) -> np.ndarray:
        """The stationary state, solved from ``L rho = 0`` with ``Tr rho = 1``.

        Solved in the ``m = 0`` block (the steady state carries no coherence between
        different excitation numbers) by sparse LU with one equation replaced by the
        trace condition.  For these models it equals the product of thermal states
        (eq 10); the tests check that.
        """
        sec = self.sector(0)
        diag = np.flatnonzero(sec.ket == sec.bra)
        a = sec.matrix.tolil()
        a[diag[0], :] = 0
        a[diag[0], diag] = 1.0
        rhs = np.zeros(sec.size, dtype=complex)
        rhs[diag[0]] = 1.0
        v = spla.spsolve(a.tocsc(), rhs)
        rho = np.zeros((self.dim, self.dim), dtype=complex)
        rho[sec.ket, sec.bra] = v
        return (rho + rho.conj().T) / 2

    def thermal_state(self) -> np.ndarray:
        """The analytic stationary state of eq 10: the product of reservoir-temperature
        Gibbs states (truncated Gibbs states for oscillators)."""
        one = thermal(self.system, self.temperature, self.cutoff, self.omega)
        return product(*([one] * self.n_systems))
