"""Mergeable trajectory statistics: exact against numpy, and split runs merge bit for bit."""

import numpy as np
import pytest

from collision.statistics import LEAF, Moments, TrajectoryStatistics


def _leaf_moments(x: np.ndarray) -> Moments:
    """Moments of samples ``x`` (shape (n, q, s)) computed directly (two-pass)."""
    mean = x.mean(axis=0)
    return Moments(x.shape[0], mean, ((x - mean) ** 2).sum(axis=0), np.zeros((0, 0)))


def _statistics(x: np.ndarray, first: int) -> TrajectoryStatistics:
    """Statistics of samples ``x`` = trajectories ``first, first + 1, ...``."""
    stats = TrajectoryStatistics()
    for lo in range(0, x.shape[0], LEAF):
        stats.add_leaf((first + lo) // LEAF, _leaf_moments(x[lo:lo + LEAF]))
    return stats


@pytest.fixture(scope="module")
def samples():
    return np.random.default_rng(7).normal(3.0, 2.0, size=(1000, 3, 5))


def test_totals_match_numpy(samples):
    tot = _statistics(samples, 0).total()
    assert tot.count == 1000
    np.testing.assert_allclose(tot.mean, samples.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(tot.m2, samples.var(axis=0) * 1000, rtol=1e-12)
    np.testing.assert_allclose(tot.stderr, samples.std(axis=0, ddof=1) / np.sqrt(1000),
                               rtol=1e-12)


@pytest.mark.parametrize("split", [64, 128, 192, 640, 960],
                         ids=["one-leaf", "two-leaves", "three-leaves", "ten-leaves",
                              "before-last"])
def test_split_runs_merge_bit_for_bit(samples, split):
    whole = _statistics(samples, 0).total()
    a = _statistics(samples[:split], 0)
    b = _statistics(samples[split:], split)
    for merged in (a.merge(b), b.merge(a)):
        tot = merged.total()
        assert tot.count == whole.count
        np.testing.assert_array_equal(tot.mean, whole.mean)
        np.testing.assert_array_equal(tot.m2, whole.m2)
        assert merged.ranges() == [(0, 1000)]


def test_three_way_split_in_any_order(samples):
    whole = _statistics(samples, 0).total()
    parts = [_statistics(samples[:320], 0), _statistics(samples[320:512], 320),
             _statistics(samples[512:], 512)]
    merged = parts[2].merge(parts[0]).merge(parts[1])
    np.testing.assert_array_equal(merged.total().mean, whole.mean)
    np.testing.assert_array_equal(merged.total().m2, whole.m2)


@pytest.mark.parametrize("first, second, message", [
    ((0, 128), (64, 128), "already in these statistics"),
    ((0, 100), (100, 100), "already in these statistics"),
    ((0, 100), (128, 100), "only one leaf may be incomplete"),
], ids=["overlap", "split-inside-a-leaf", "two-incomplete-leaves"])
def test_merge_refuses_overlaps_and_splits_inside_a_leaf(samples, first, second, message):
    a = _statistics(samples[:first[1]], first[0])
    b_first = second[0] if second[0] % LEAF == 0 else second[0] // LEAF * LEAF
    b = _statistics(samples[:second[1]], b_first)
    with pytest.raises(ValueError, match=message):
        a.merge(b)


def test_leaf_size_is_checked():
    with pytest.raises(ValueError, match="a leaf holds 1 to 64"):
        TrajectoryStatistics().add_leaf(0, _leaf_moments(np.ones((65, 1, 1))))


# --- real trajectory runs ----------------------------------------------------------------------

def _qubit_run(**options):
    from collision import CascadeCollisionModel
    from collision.options import TrajectoryOptions
    from lindblad import states

    model = CascadeCollisionModel("qubit", temperature=1.0)
    rho0 = states.correlated_qubits(0.4, 0.5)
    return model.run(rho0, 1.0, 0.02, method="trajectories",
                     options=TrajectoryOptions(seed=11, **options))


@pytest.mark.parametrize("split", [64, 192], ids=["one-leaf-first", "three-leaves-first"])
def test_split_trajectory_run_merges_to_the_single_run_bit_for_bit(split):
    from collision import merge_results

    whole = _qubit_run(n_trajectories=300)
    a = _qubit_run(n_trajectories=split)
    b = _qubit_run(n_trajectories=300 - split, first_trajectory=split)
    merged = merge_results(a, b)
    for name in ("local", "correlated"):
        np.testing.assert_array_equal(getattr(merged, name), getattr(whole, name))
        np.testing.assert_array_equal(getattr(merged.stderr, name), getattr(whole.stderr, name))
    np.testing.assert_array_equal(merged.stderr.total, whole.stderr.total)
    np.testing.assert_array_equal(merged.final_state, whole.final_state)
    assert merged.parameters["n_trajectories"] == 300
    assert merged.parameters["ranges"] == [(0, 300)]


def test_results_do_not_depend_on_the_batch_size(monkeypatch):
    import collision.trajectories as tr

    small = _qubit_run(n_trajectories=256)
    monkeypatch.setattr(tr, "MAX_BATCH", 64)
    monkeypatch.setattr(tr, "BATCH_WORK", 1.0)
    batched = _qubit_run(n_trajectories=256)
    assert batched.parameters["batch_size"] == 64 != small.parameters["batch_size"]
    np.testing.assert_array_equal(batched.local, small.local)
    np.testing.assert_array_equal(batched.stderr.total, small.stderr.total)


def test_merge_refuses_runs_of_different_seeds():
    from collision import merge_results

    a = _qubit_run(n_trajectories=64)
    from collision import CascadeCollisionModel
    from collision.options import TrajectoryOptions
    from lindblad import states

    b = CascadeCollisionModel("qubit", temperature=1.0).run(
        states.correlated_qubits(0.4, 0.5), 1.0, 0.02, method="trajectories",
        options=TrajectoryOptions(seed=12, n_trajectories=64, first_trajectory=64))
    with pytest.raises(ValueError, match="seed_entropy"):
        merge_results(a, b)


@pytest.mark.parametrize("first", [-64, 10, 1.5], ids=["negative", "inside-a-leaf", "float"])
def test_first_trajectory_is_validated(first):
    from collision.options import TrajectoryOptions

    with pytest.raises(ValueError, match="first_trajectory"):
        TrajectoryOptions(first_trajectory=first)


def test_final_state_can_be_skipped_and_merges_without_it():
    """``final_state=False`` changes nothing but the final state; merging a run that kept
    it with one that did not gives the merged fluxes and no final state."""
    from collision import merge_results

    kept = _qubit_run(n_trajectories=128)
    skipped = _qubit_run(n_trajectories=128, final_state=False)
    assert kept.final_state is not None and skipped.final_state is None
    np.testing.assert_array_equal(skipped.local, kept.local)
    np.testing.assert_array_equal(skipped.stderr.total, kept.stderr.total)
    rest = _qubit_run(n_trajectories=64, first_trajectory=128)
    merged = merge_results(skipped, rest)
    assert merged.final_state is None
    np.testing.assert_array_equal(merged.local, merge_results(kept, rest).local)
