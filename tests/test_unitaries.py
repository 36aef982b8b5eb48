"""Exchange unitaries and one step of the density engine against dense linear algebra.

The reference here never touches the block machinery: it builds the joint
(subsystems x ancilla) density matrix with ``np.kron``, embeds the dense ``expm`` unitary
of every collision with a Kronecker product and an axis permutation, and takes the
partial trace over the ancilla.
"""

import numpy as np
import pytest

from collision import CascadeCollisionModel
from collision.density import DensityEngine
from collision.unitaries import exchange_unitary, exchange_unitary_dense

# --- the block unitary -----------------------------------------------------------------

UNITARY_CASES = [
    (2, 2, 0.1), (2, 6, 0.3), (6, 2, 0.3), (5, 7, 0.05), (12, 5, 0.2), (20, 19, 0.1),
    (4, 4, 1.5), (3, 9, 0.7),
]


@pytest.mark.parametrize("d_sys,d_anc,theta", UNITARY_CASES,
                         ids=[f"d{a}-b{b}-theta{t}" for a, b, t in UNITARY_CASES])
def test_block_unitary_matches_dense_expm(d_sys, d_anc, theta):
    blocks = exchange_unitary(d_sys, d_anc, theta)
    u = blocks.dense()
    ref = exchange_unitary_dense(d_sys, d_anc, theta)
    np.testing.assert_allclose(u, ref, rtol=0, atol=1e-13)
    np.testing.assert_allclose(u @ u.conj().T, np.eye(d_sys * d_anc), rtol=0, atol=1e-13)
    # amplitude() reads the same numbers, and vanishes off the conserved-excitation shell
    assert blocks.amplitude(1, 0, 0, 1) == pytest.approx(ref[1 * d_anc + 0, 0 * d_anc + 1],
                                                         abs=1e-15)
    assert blocks.amplitude(1, 1, 0, 1) == 0.0


# --- one averaged step against a dense computation ------------------------------------------

def embed_collision(u2, site, n, d, d_b):
    """A unitary on (S_site, B) as a matrix on S_1 x ... x S_n x B (ancilla last)."""
    others = [j for j in range(n) if j != site]
    op = np.kron(u2, np.eye(d ** (n - 1)))  # axes: S_site, B, the other subsystems in order
    labels = [site, n] + others  # label n is the ancilla
    perm = [labels.index(ax) for ax in range(n + 1)]
    dims = [d, d_b] + [d] * (n - 1)
    t = op.reshape(dims + dims).transpose(perm + [p + n + 1 for p in perm])
    dim = d**n * d_b
    return t.reshape(dim, dim)


def partial_trace_ancilla(joint, dim, d_b):
    return np.trace(joint.reshape(dim, d_b, dim, d_b), axis1=1, axis2=3)


def dense_step(rho, n, d, d_b, theta, anc_pop, omega, cascade):
    """One step by brute force; returns the new state and the energy each collision
    hands to its ancilla."""
    dim = d**n
    u2 = exchange_unitary_dense(d, d_b, theta)
    anc = np.diag(anc_pop).astype(complex)
    h_anc = np.kron(np.ones(dim), omega * np.arange(d_b))  # diagonal of 1 x H_B

    def anc_energy(joint):
        return np.real(np.diagonal(joint) @ h_anc)

    gains = []
    if cascade:
        joint = np.kron(rho, anc)
        e_before = anc_energy(joint)
        for i in range(n):
            u = embed_collision(u2, i, n, d, d_b)
            joint = u @ joint @ u.conj().T
            e_after = anc_energy(joint)
            gains.append(e_after - e_before)
            e_before = e_after
        return partial_trace_ancilla(joint, dim, d_b), np.array(gains)
    out = rho
    for i in range(n):  # every subsystem meets its own fresh ancilla
        joint = np.kron(out, anc)
        e_before = anc_energy(joint)
        u = embed_collision(u2, i, n, d, d_b)
        joint = u @ joint @ u.conj().T
        gains.append(anc_energy(joint) - e_before)
        out = partial_trace_ancilla(joint, dim, d_b)
    return out, np.array(gains)


def random_state(dim, seed):
    """Full-rank random state: coherences between every pair of excitation numbers."""
    rng = np.random.default_rng(seed)
    g = rng.normal(size=(dim, dim)) + 1j * rng.normal(size=(dim, dim))
    rho = g @ g.conj().T
    return rho / np.trace(rho).real


def system_energies(rho, model):
    """Tr[rho H_i] for every subsystem, from the diagonal."""
    from lindblad.operators import excitations

    levels = model.level_energies()
    pops = np.diagonal(rho).real
    fock = excitations(model.dims)
    return np.array([pops @ levels[fock[:, i]] for i in range(model.n_systems)])


STEP_CASES = [
    (system, bath, cascade, n, temperature)
    for system in ("qubit", "oscillator")
    for bath in ("qubit", "boson")
    for cascade in (True, False)
    for n in (2, 3)
    for temperature in (0.5,)
] + [("qubit", "qubit", True, 2, 0.0), ("oscillator", "boson", True, 3, 0.0)]


def _step_id(case):
    system, bath, cascade, n, temperature = case
    return (f"{system}-{bath}bath-{'cascade' if cascade else 'independent'}-n{n}"
            f"-T{temperature}")


@pytest.fixture(scope="module", params=STEP_CASES, ids=[_step_id(c) for c in STEP_CASES])
def one_step(request):
    system, bath, cascade, n, temperature = request.param
    cutoff = 3 if system == "oscillator" else None
    model = CascadeCollisionModel(system, n, gamma=1.3, omega=0.9, temperature=temperature,
                                  cutoff=cutoff, bath=bath, cascade=cascade)
    dt = 0.1
    rho0 = random_state(model.dim, seed=7 + n)
    plan = model.plan(rho0, dt, dt)
    ref, gains = dense_step(rho0, n, model.d_sys, plan.d_anc, plan.theta, plan.anc_pop,
                            model.omega, cascade)
    return model, plan, rho0, ref, gains


def test_one_step_equals_dense_computation(one_step):
    model, plan, rho0, ref, _ = one_step
    ours = DensityEngine(model, plan).step(rho0)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)
    # both kernels agree
    ours_kraus = DensityEngine(model, plan, scheme="kraus").step(rho0)
    np.testing.assert_allclose(ours_kraus, ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("scheme", ["kraus", "superoperator"])
def test_run_state_after_one_step_is_the_dense_step_in_the_lab_frame(one_step, scheme):
    model, plan, rho0, ref, _ = one_step
    result = DensityEngine(model, plan, scheme=scheme).run()
    assert result.t[-1] == pytest.approx(plan.dt)
    np.testing.assert_allclose(result.final_state, model.to_lab_frame(ref, plan.dt),
                               rtol=0, atol=1e-12)


def test_energy_given_to_the_ancilla_equals_energy_lost_by_the_systems(one_step):
    model, plan, rho0, ref, gains = one_step
    lost = system_energies(rho0, model) - system_energies(ref, model)
    # the dense computation conserves energy collision by collision ...
    assert gains.sum() == pytest.approx(lost.sum(), abs=1e-12)
    np.testing.assert_allclose(gains, lost, rtol=0, atol=1e-12)
    # ... and the engine's own flux of every subsystem at t = 0 is that energy / dt
    result = model.run(rho0, plan.dt, plan.dt)
    np.testing.assert_allclose(result.subsystem[:, 0] * plan.dt, gains, rtol=0, atol=1e-12)
    assert result.total[0] * plan.dt == pytest.approx(gains.sum(), abs=1e-12)
