"""The time-step error grows with the chain as the AccuracyWarning's rule says."""

import numpy as np

from collision.studies.chain_error import chain_error


def test_measured_error_follows_the_warning_rule():
    r = chain_error(n_values=(2, 4, 10), dt=0.01, t_max=3.0)
    # within 15% of (n - 2/3) gamma dt, and never above it by more than 2%
    np.testing.assert_allclose(r.measured, r.predicted, rtol=0.15)
    assert np.all(r.measured <= 1.02 * r.predicted)
    assert np.all(np.diff(r.measured) > 0)
