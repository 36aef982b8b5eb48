"""The general collision model against independent references.

* the density engine against the dense register of ``tests/dense_collision.py`` (every
  ancilla of every stream in the joint state, ``expm``, partial trace) to 1e-12;
* the trajectory engine against the density engine within its standard errors;
* the derived continuum limit against the paper's cascade (``CascadeMasterEquation``) and
  against the numerical limit of the dense step map, ``(Phi_dt - 1)/dt`` extrapolated;
* the order of convergence the model announces (1 or 1/2), measured.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from dense_collision import (
    dense_run,
    embed_tensor,
    random_hermitian,
    random_state,
    without_mean,
)

import collision
import lindblad
from collision.models.general import Collision, CollisionModel
from collision.models.limit import continuum_limit, continuum_order
from collision.options import DensityOptions, TrajectoryOptions
from lindblad import states

SM = np.array([[0, 1], [0, 0]], dtype=complex)  # sigma_- = |g><e|, ground first
HQ = 0.5 * np.diag([-1.0, 1.0]).astype(complex)  # (omega / 2) sigma_z, omega = 1


def exchange(g: float = 1.0) -> np.ndarray:
    """``sqrt(g) (sigma_+ b + sigma_- b^dag)`` on qubit x qubit ancilla."""
    return math.sqrt(g) * (np.kron(SM.conj().T, SM) + np.kron(SM, SM.conj().T))


def thermal_qubit(temperature: float) -> np.ndarray:
    xi = 1.0 if temperature == 0 else math.tanh(1 / (2 * temperature))
    return np.diag([(1 + xi) / 2, (1 - xi) / 2]).astype(complex)


def liouvillian(h: np.ndarray, jumps: list[np.ndarray]) -> np.ndarray:
    """Row-major ``vec(rho)[k D + l] = rho[k, l]``: ``vec(A rho B) = kron(A, B^T) vec``."""
    d = h.shape[0]
    eye = np.eye(d)
    out = -1j * (np.kron(h, eye) - np.kron(eye, h.T))
    for c in jumps:
        cc = c.conj().T @ c
        out += np.kron(c, c.conj()) - 0.5 * np.kron(cc, eye) - 0.5 * np.kron(eye, cc.T)
    return out


# --- random models ------------------------------------------------------------------------

def random_model(seed: int, dims: list[int], stream_dims: list[int], scales: list[str],
                 zero_mean: bool = True):
    """A random model: H, streams, collisions (subsystem sets cycling through the
    subsystems, one per entry of ``scales``) and Hamiltonians of every stream."""
    rng = np.random.default_rng(seed)
    names = [f"s{k}" for k in range(len(stream_dims))]
    streams = {r: random_state(rng, d) for r, d in zip(names, stream_dims, strict=True)}
    energies = {r: random_hermitian(rng, d) for r, d in zip(names, stream_dims, strict=True)}
    d_total = math.prod(dims)
    collisions = []
    for j, scale in enumerate(scales):
        subs = (j % len(dims),) if j % 3 != 2 or len(dims) == 1 else \
            ((j + 1) % len(dims), j % len(dims))
        r = names[j % len(names)]
        d_s = math.prod(dims[s] for s in subs)
        v = 0.7 * random_hermitian(rng, d_s * stream_dims[names.index(r)])
        if zero_mean and scale == "sqrt_dt":
            v = without_mean(v, streams[r], d_s)
        collisions.append((subs, v, r, scale))
    h = 0.5 * random_hermitian(rng, d_total)
    rho0 = random_state(rng, d_total)
    return h, streams, energies, collisions, rho0


CASES = {
    "2x2-one-qubit-stream": ([2, 2], [2], ["sqrt_dt", "sqrt_dt"]),
    "2x3-two-streams": ([2, 3], [2, 3], ["sqrt_dt", "sqrt_dt", "dt", "sqrt_dt"]),
    "3-qutrit-stream-dt-only": ([3], [3], ["dt", "dt"]),
    "2x2x2-pair-collisions": ([2, 2, 2], [2, 2], ["sqrt_dt", "dt", "sqrt_dt", "sqrt_dt"]),
    "3x2-nonzero-mean": ([3, 2], [3], ["sqrt_dt", "sqrt_dt", "sqrt_dt"]),
}


def build(case: str, seed: int = 3):
    dims, stream_dims, scales = CASES[case]
    h, streams, energies, collisions, rho0 = random_model(
        seed, dims, stream_dims, scales, zero_mean=case != "3x2-nonzero-mean")
    model = CollisionModel(dims, h, streams, [Collision(s, v, r, scale) for s, v, r, scale
                                              in collisions], stream_hamiltonians=energies)
    return model, (dims, h, streams, collisions, energies), rho0


@pytest.mark.parametrize("scheme", ["sequential", "superoperator"])
@pytest.mark.parametrize("case", list(CASES))
def test_density_engine_equals_dense_register(case, scheme):
    """Expectation values, heat of every stream and the final state to 1e-12 (rounding
    of ~40 steps of products of unit-scale matrices), for both schemes."""
    model, (dims, h, streams, collisions, energies), rho0 = build(case)
    d = math.prod(dims)
    rng = np.random.default_rng(9)
    e_ops = {"A": random_hermitian(rng, d), "B": rng.normal(size=(d, d)) + 0j}
    dt, steps = 0.03, 40
    res = model.run(rho0, steps * dt, dt, e_ops=e_ops, save_every=2,
                    options=DensityOptions(scheme=scheme))
    assert res.parameters["scheme"] == scheme
    expect, heat, rhos = dense_run(dims, h, streams, collisions, energies, rho0, dt,
                                   steps + 1, e_ops)
    for k in e_ops:
        assert np.max(np.abs(res.expect[k] - expect[k][::2])) < 1e-12, k
    assert np.isrealobj(res.expect["A"]) and np.iscomplexobj(res.expect["B"])
    for r in streams:
        assert np.max(np.abs(res.heat[r] - heat[r][::2])) < 1e-12, r
    assert np.max(np.abs(res.final_state - rhos[steps])) < 1e-12
    np.testing.assert_allclose(res.t, np.arange(0, steps + 1, 2) * dt, rtol=0, atol=1e-15)


def test_embedding_of_the_reference_is_the_kronecker_product():
    """The reference's einsum embedding agrees with Kronecker products where they apply."""
    rng = np.random.default_rng(0)
    a, b = random_hermitian(rng, 2), random_hermitian(rng, 3)
    assert np.allclose(embed_tensor(a, [0], [2, 3]), np.kron(a, np.eye(3)))
    assert np.allclose(embed_tensor(b, [1], [2, 3]), np.kron(np.eye(2), b))
    ab = np.kron(a, b)
    swapped = embed_tensor(ab, [1, 0], [3, 2])  # a on factor 1, b on factor 0
    assert np.allclose(swapped, np.kron(b, a))


@pytest.mark.parametrize("case", ["2x2-one-qubit-stream", "2x3-two-streams"])
def test_trajectories_agree_with_density_engine(case):
    """A chi-square over the saved times of every expectation value and heat: the mean of
    z^2 over 21 times (correlated, through the shared trajectories) stays below 4
    (measured 0.09-0.87 for this seed)."""
    model, _, rho0 = build(case)
    d = model.dim
    rng = np.random.default_rng(5)
    e_ops = {"A": random_hermitian(rng, d)}
    exact = model.run(rho0, 0.6, 0.03, e_ops=e_ops)
    mc = model.run(rho0, 0.6, 0.03, method="trajectories", e_ops=e_ops,
                   n_trajectories=4000, seed=11)
    pieces = [(mc.expect["A"], exact.expect["A"], mc.stderr.expect["A"])]
    pieces += [(mc.heat[r], exact.heat[r], mc.stderr.heat[r]) for r in model.streams]
    for got, want, err in pieces:
        z = (got - want) / err
        assert np.all(np.isfinite(z[1:]))
        assert np.mean(z[1:] ** 2) < 4.0
    np.testing.assert_allclose(np.trace(mc.final_state), 1.0, atol=1e-12)


def test_trajectories_do_not_depend_on_threads_or_batches():
    model, _, rho0 = build("2x3-two-streams")
    e_ops = {"A": np.diag(np.arange(model.dim, dtype=float))}
    a = model.run(rho0, 0.3, 0.03, method="trajectories", e_ops=e_ops, n_trajectories=300,
                  seed=4, options=None)
    b = model.run(rho0, 0.3, 0.03, method="trajectories", e_ops=e_ops,
                  options=TrajectoryOptions(n_trajectories=300, seed=4, n_threads=1))
    for k in a.expect:
        assert np.array_equal(a.expect[k], b.expect[k])
    for r in a.heat:
        assert np.array_equal(a.heat[r], b.heat[r])


# --- the continuum limit ----------------------------------------------------------------------

@pytest.mark.parametrize("temperature", [0.0, 1.0], ids=["T0", "T1"])
@pytest.mark.parametrize("cascade", [True, False], ids=["cascade", "independent"])
def test_limit_of_the_paper_cascade_is_its_master_equation(temperature, cascade):
    """The derived generator equals eqs 1-8 (``CascadeMasterEquation``) to 1e-13: the order
    of the collisions produces exactly the cascade Hamiltonian."""
    eta = thermal_qubit(temperature)
    if cascade:
        model = CollisionModel([2, 2], [HQ, HQ], eta, [Collision(0, exchange(1.3)),
                                                        Collision(1, exchange(1.3))])
    else:
        model = CollisionModel([2, 2], [HQ, HQ], {"a": eta, "b": eta},
                               [Collision(0, exchange(1.3), "a"),
                                Collision(1, exchange(1.3), "b")])
    ref = lindblad.CascadeMasterEquation("qubit", 2, gamma=1.3, temperature=temperature,
                                         cascade=cascade).liouvillian().toarray()
    assert np.max(np.abs(liouvillian(*continuum_limit(model)) - ref)) < 1e-13
    me = model.master_equation()
    assert isinstance(me, lindblad.MasterEquation)
    assert np.max(np.abs(me.liouvillian().toarray() - ref)) < 1e-13
    assert continuum_order(model) == 1.0


def _step_superoperator(model: CollisionModel, dt: float, parts) -> np.ndarray:
    dims, h, streams, collisions, energies = parts
    d = model.dim
    out = np.zeros((d * d, d * d), dtype=complex)
    for k in range(d):
        for m in range(d):
            basis = np.zeros((d, d), dtype=complex)
            basis[k, m] = 1
            rho = dense_run(dims, h, streams, collisions, energies, basis, dt, 2, {})[2][1]
            out[:, k * d + m] = rho.reshape(-1)
    return out


@pytest.mark.parametrize("case", ["2x2-one-qubit-stream", "2x3-two-streams",
                                  "2x2x2-pair-collisions"])
def test_limit_equals_extrapolated_numerical_generator(case):
    """``(Phi_dt - 1)/dt = L + sqrt(dt) M_3 + dt M_4 + ...``: three dt's and a fit in
    powers of sqrt(dt) remove the first two corrections; the rest is O(dt^{3/2}).  This
    uses the dense step map of the reference only, not the derivation.  Measured: 1.1e-5
    to 9.5e-5 against generators of norm 4-11 (the plain quotient at dt = 2.5e-5 is off by
    0.011-0.056)."""
    model, parts, _ = build(case)
    gen = model.master_equation().liouvillian().toarray()
    dts = np.array([4e-4, 1e-4, 2.5e-5])
    g = [(_step_superoperator(model, dt, parts) - np.eye(model.dim**2)) / dt for dt in dts]
    # fit g(dt) = L + a sqrt(dt) + b dt exactly through the three points
    basis = np.stack([np.ones(3), np.sqrt(dts), dts], axis=1)
    coef = np.linalg.solve(basis, np.stack([x.reshape(-1) for x in g]))
    err = np.max(np.abs(coef[0].reshape(gen.shape) - gen))
    assert err < 1e-4 * max(1.0, np.max(np.abs(gen))), err


def test_non_zero_first_moment_runs_but_has_no_limit():
    model, _, rho0 = build("3x2-nonzero-mean")
    res = model.run(rho0, 0.3, 0.03, e_ops=[np.eye(model.dim)])
    np.testing.assert_allclose(res.expect_list[0], 1.0, atol=1e-12)
    with pytest.raises(ValueError, match=r"no continuum limit.*collisions\[0\]"):
        model.master_equation()
    with pytest.raises(ValueError, match="first moment"):
        continuum_order(model)


def _max_error_vs_limit(model, rho0, dts, t_max, e_op):
    me = model.master_equation()
    errors = []
    for dt in dts:
        res = model.run(rho0, t_max, dt, e_ops={"o": e_op}, save_every=round(0.1 / dt))
        exact = me.expect({"o": e_op}, rho0, res.t)["o"]
        errors.append(np.max(np.abs(res.expect["o"] - exact)))
    return np.array(errors)


def test_order_one_for_exchange_with_thermal_ancillas():
    """Measured order 1.00 (errors 7.7e-4, 3.8e-4, 1.9e-4 at dt = 0.02, 0.01, 0.005)."""
    model = CollisionModel([2, 2], [HQ, HQ], thermal_qubit(1.0),
                           [Collision(0, exchange()), Collision(1, exchange())])
    rho0 = states.product(states.thermal("qubit", 2.0), states.thermal("qubit", 0.3))
    assert model.continuum_order == 1.0
    dts = np.array([0.02, 0.01, 0.005])
    err = _max_error_vs_limit(model, rho0, dts, 1.0, np.kron(np.eye(2), HQ))
    order = np.polyfit(np.log(dts), np.log(err), 1)[0]
    assert 0.9 < order < 1.1, (err, order)


def test_order_one_half_in_general():
    """A qutrit ancilla with non-zero third moments: the dt^{3/2} terms of each step add up
    to an error of order sqrt(dt) (measured order 0.51: 0.020, 0.0097, 0.0048 at dt =
    4e-3, 1e-3, 2.5e-4)."""
    rng = np.random.default_rng(2)
    eta = random_state(rng, 3)
    v = without_mean(random_hermitian(rng, 6), eta, 2)
    model = CollisionModel([2], HQ, eta, [Collision(0, v)])
    rho0 = random_state(rng, 2)
    assert model.continuum_order == 0.5
    dts = np.array([4e-3, 1e-3, 2.5e-4])
    err = _max_error_vs_limit(model, rho0, dts, 0.5, np.array([[0, 1], [1, 0]], complex))
    order = np.polyfit(np.log(dts), np.log(err), 1)[0]
    assert 0.4 < order < 0.6, (err, order)


# --- validation --------------------------------------------------------------------------------

BAD = {
    "non-hermitian-interaction": (lambda: Collision(0, np.triu(np.ones((4, 4)))), "Hermitian"),
    "wrong-shape": (lambda: CollisionModel([2, 2], None, np.eye(2) / 2,
                                           [Collision(0, np.eye(8))]), "must be 4 x 4"),
    "unknown-stream": (lambda: CollisionModel([2], None, np.eye(2) / 2,
                                              [Collision(0, exchange(), "hot")]),
                       "stream 'hot', which does not exist"),
    "trace-2-ancilla": (lambda: CollisionModel([2], None, np.eye(2),
                                               [Collision(0, exchange())]), "unit trace"),
    "index-out-of-range": (lambda: CollisionModel([2], None, np.eye(2) / 2,
                                                  [Collision(1, exchange())]),
                           "names subsystem 1"),
    "repeated-subsystem": (lambda: Collision((0, 0), np.eye(8)), "distinct"),
    "bad-scale": (lambda: Collision(0, exchange(), scale="dt2"), "scale"),
    "no-collisions": (lambda: CollisionModel([2], None, np.eye(2) / 2, []),
                      "at least one"),
    "dim-1": (lambda: CollisionModel([1, 2], None, np.eye(2) / 2,
                                     [Collision(1, exchange())]), "dims"),
    "local-hamiltonian-count": (lambda: CollisionModel([2, 2], [HQ], np.eye(2) / 2,
                                                       [Collision(0, exchange())]),
                                "one local Hamiltonian per subsystem"),
    "stream-hamiltonian-unknown": (lambda: CollisionModel(
        [2], None, np.eye(2) / 2, [Collision(0, exchange())],
        stream_hamiltonians={"cold": HQ}), "stream 'cold'"),
    "e_ops-shape": (lambda: CollisionModel([2], None, np.eye(2) / 2, [Collision(0, exchange())])
                    .run(np.eye(2) / 2, 0.1, 0.01, e_ops={"x": np.eye(3)}), "2 x 2"),
    "method": (lambda: CollisionModel([2], None, np.eye(2) / 2, [Collision(0, exchange())])
               .run(np.eye(2) / 2, 0.1, 0.01, method="gaussian"), "method"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_is_refused_before_any_work(name):
    make, message = BAD[name]
    with pytest.raises(ValueError, match=message):
        make()


# --- records and merges ------------------------------------------------------------------------

def test_parameters_rebuild_the_model_and_rerun_bit_for_bit():
    model, _, rho0 = build("2x3-two-streams")
    e_ops = {"A": np.diag(np.arange(model.dim, dtype=float))}
    first = model.run(rho0, 0.3, 0.03, method="trajectories", e_ops=e_ops,
                      n_trajectories=128, seed=5)
    params = json.loads(json.dumps(first.parameters))  # as a file would keep them
    again = CollisionModel.from_parameters(params).run(
        rho0, params["t_max"], params["dt"], method="trajectories", e_ops=e_ops,
        options=TrajectoryOptions(**{k: v for k, v in params["options"].items()
                                     if k != "method"}))
    for k in first.expect:
        assert np.array_equal(first.expect[k], again.expect[k])
    for r in first.heat:
        assert np.array_equal(first.heat[r], again.heat[r])
    assert first.parameters["initial_state"].startswith("matrix:sha256:")


def test_trajectory_runs_merge_bit_for_bit_and_refuse_other_runs():
    model, _, rho0 = build("2x2-one-qubit-stream")
    e_ops = {"A": np.diag(np.arange(model.dim, dtype=float))}

    def run(first, n, seed=7, state=rho0, dt=0.03):
        return model.run(state, 0.3, dt, method="trajectories", e_ops=e_ops,
                         options=TrajectoryOptions(n_trajectories=n, seed=seed,
                                                   first_trajectory=first))
    whole = run(0, 256)
    merged = collision.merge_results(run(0, 128), run(128, 128))
    for k in whole.expect:
        assert np.array_equal(whole.expect[k], merged.expect[k])
        assert np.array_equal(whole.stderr.expect[k], merged.stderr.expect[k])
    for r in whole.heat:
        assert np.array_equal(whole.heat[r], merged.heat[r])
    assert merged.parameters["n_trajectories"] == 256
    with pytest.raises(ValueError, match="differ in .*seed_entropy"):
        collision.merge_results(run(0, 64), run(64, 64, seed=8))
    with pytest.raises(ValueError, match="differ in .*initial_state"):
        collision.merge_results(run(0, 64), run(64, 64, state=np.eye(model.dim) / model.dim))
    with pytest.raises(ValueError, match="differ in .*dt"):
        collision.merge_results(run(0, 64), run(64, 64, dt=0.05))
    with pytest.raises(ValueError, match="overlap"):
        collision.merge_results(run(0, 128), run(64, 128))


@pytest.mark.parametrize("suffix", [".csv", ".npz"])
@pytest.mark.parametrize("method", ["density", "trajectories"])
def test_results_save_and_load_bit_for_bit(tmp_path, suffix, method):
    model, _, rho0 = build("2x3-two-streams")
    rng = np.random.default_rng(9)
    e_ops = {"A": random_hermitian(rng, model.dim), "B": rng.normal(size=(6, 6)) + 0j}
    kw = {"n_trajectories": 128, "seed": 2} if method == "trajectories" else {}
    res = model.run(rho0, 0.3, 0.03, method=method, e_ops=e_ops, **kw)
    back = collision.Result.load(res.save(tmp_path / f"r{suffix}"))
    for k in res.expect:
        assert np.array_equal(res.expect[k], back.expect[k]) and \
            res.expect[k].dtype == back.expect[k].dtype
    for r in res.heat:
        assert np.array_equal(res.heat[r], back.heat[r])
    if method == "trajectories":
        for k in res.expect:
            assert np.array_equal(res.stderr.expect[k], back.stderr.expect[k])
    if suffix == ".npz":
        assert np.array_equal(res.final_state, back.final_state)
    assert back.parameters["dims"] == [2, 3]
    assert CollisionModel.from_parameters(back.parameters).dims == (2, 3)


@pytest.mark.parametrize("damage", ["truncate", "nan", "reverse", "empty"])
@pytest.mark.parametrize("suffix", [".csv", ".npz"])
def test_damaged_result_files_are_refused(tmp_path, suffix, damage):
    model, _, rho0 = build("2x2-one-qubit-stream")
    path = model.run(rho0, 0.3, 0.03, e_ops={"A": np.eye(4)}).save(tmp_path / f"r{suffix}")
    if damage == "empty":
        path.write_bytes(b"")
    elif suffix == ".npz":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:
        lines = path.read_text().splitlines()
        rows = [i for i, s in enumerate(lines) if s and not s.startswith("#")][1:]
        if damage == "truncate":
            lines[rows[-1]] = lines[rows[-1]][:-4] + "x"
        elif damage == "nan":
            cells = lines[rows[2]].split(",")
            cells[1] = "nan"
            lines[rows[2]] = ",".join(cells)
        else:
            for i, j in zip(rows, rows[::-1], strict=True):
                lines[i] = path.read_text().splitlines()[j]
        path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=str(path.name)):
        collision.Result.load(path)


class _Qobj:
    """Anything with ``.full()`` is read as an operator, as QuTiP's ``Qobj``."""

    def __init__(self, m):
        self.m = np.asarray(m)

    def full(self):
        return self.m


def test_operators_may_be_qobj_like():
    model, parts, rho0 = build("2x2-one-qubit-stream")
    dims, h, streams, collisions, energies = parts
    wrapped = CollisionModel(dims, _Qobj(h), {r: _Qobj(e) for r, e in streams.items()},
                             [Collision(s, _Qobj(v), r, scale) for s, v, r, scale in collisions],
                             stream_hamiltonians={r: _Qobj(e) for r, e in energies.items()})
    ops = {"A": np.eye(model.dim)}
    a = model.run(rho0, 0.2, 0.02, e_ops=ops)
    b = wrapped.run(_Qobj(rho0), 0.2, 0.02, e_ops={"A": _Qobj(np.eye(model.dim))})
    for r in a.heat:
        assert np.array_equal(a.heat[r], b.heat[r])
    assert np.array_equal(a.final_state, b.final_state)


def _interrupt_on(call: int, real):
    calls = [0]

    def kernel(*args):
        calls[0] += 1
        if calls[0] == call:
            raise KeyboardInterrupt
        return real(*args)
    return kernel


@pytest.mark.parametrize("method", ["density", "trajectories"])
def test_ctrl_c_returns_the_finished_part(monkeypatch, method):
    """Ctrl-C between chunks returns the finished saved times (density: the steps run;
    trajectories: the finished batches) with ``partial=True`` and a warning."""
    import collision.engines.general as engine

    model, _, rho0 = build("2x2-one-qubit-stream")
    e_ops = {"A": np.diag(np.arange(model.dim, dtype=float))}
    if method == "density":
        kw = {"options": DensityOptions(scheme="sequential")}
        monkeypatch.setattr(engine._k, "density_steps",
                            _interrupt_on(3, engine._k.density_steps))
        t_max, dt = 60.0, 0.001
    else:
        kw = {"n_trajectories": 3 * 4096, "seed": 1}
        monkeypatch.setattr(engine._k, "trajectory_batch",
                            _interrupt_on(2, engine._k.trajectory_batch))
        t_max, dt = 0.2, 0.01
    with pytest.warns(UserWarning, match="interrupted"):
        part = model.run(rho0, t_max, dt, method=method, e_ops=e_ops, **kw)
    assert part.partial
    if method == "density":
        assert 0 < part.t.size < round(t_max / dt) + 1
        again = model.run(rho0, float(part.t[-1]), dt, e_ops=e_ops, **kw)  # no interrupt now
        assert np.array_equal(again.expect["A"], part.expect["A"])
    else:
        assert part.parameters["n_trajectories"] == 4096
