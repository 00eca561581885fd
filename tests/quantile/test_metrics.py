import numpy as np
import pytest
from sklearn.metrics import mean_pinball_loss

from skensemble.metrics import (
    crps_from_quantiles,
    interval_coverage,
    interval_width,
    pinball_loss,
    quantile_calibration_error,
    weighted_interval_score,
)

LEVELS = np.array([0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95])


@pytest.fixture
def predictions():
    rng = np.random.RandomState(0)
    y = rng.standard_normal(200)
    q = np.sort(rng.standard_normal((200, LEVELS.size)), axis=1)
    return y, q


def test_pinball_matches_sklearn_per_level(predictions):
    y, q = predictions
    expected = np.mean(
        [mean_pinball_loss(y, q[:, k], alpha=tau) for k, tau in enumerate(LEVELS)]
    )
    assert pinball_loss(y, q, quantiles=LEVELS) == pytest.approx(expected)


def test_wis_equals_bracher_interval_form(predictions):
    y, q = predictions
    median = q[:, 3]
    total = 0.5 * np.abs(y - median)
    for low, high in ((0, 6), (1, 5), (2, 4)):
        alpha = 2 * LEVELS[low]
        lower, upper = q[:, low], q[:, high]
        interval_score = (
            (upper - lower)
            + 2 / alpha * np.maximum(lower - y, 0)
            + 2 / alpha * np.maximum(y - upper, 0)
        )
        total = total + alpha / 2 * interval_score
    expected = np.mean(total / (3 + 0.5))
    assert weighted_interval_score(y, q, quantiles=LEVELS) == pytest.approx(expected)


def test_crps_of_a_fine_grid_approaches_the_gaussian_closed_form():
    from scipy.stats import norm

    levels = np.arange(1, 1000) / 1000
    y = np.array([0.3, -1.2])
    q = np.tile(norm.ppf(levels), (2, 1))
    closed = y * (2 * norm.cdf(y) - 1) + 2 * norm.pdf(y) - 1 / np.sqrt(np.pi)
    assert crps_from_quantiles(y, q, quantiles=levels) == pytest.approx(
        closed.mean(), rel=2e-3
    )


def test_interval_coverage_and_width_by_hand():
    y = np.array([0.0, 1.0, 2.0, 3.0])
    interval = np.array([[0.0, 1.0], [0.0, 0.5], [1.0, 3.0], [4.0, 5.0]])
    assert interval_coverage(y, interval) == 0.5
    assert interval_width(interval) == pytest.approx((1 + 0.5 + 2 + 1) / 4)


def test_calibration_error_is_zero_for_exact_quantiles():
    y = np.arange(100.0)
    q = np.tile([24.5, 74.5], (100, 1))
    error, empirical = quantile_calibration_error(
        y, q, quantiles=[0.25, 0.75], return_levels=True
    )
    np.testing.assert_allclose(empirical, [0.25, 0.75])
    assert error == pytest.approx(0.0)


def test_bad_inputs_raise_clear_errors(predictions):
    y, q = predictions
    with pytest.raises(ValueError, match="one column per quantile"):
        pinball_loss(y, q, quantiles=LEVELS[:3])
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        pinball_loss(y, q[:, :2], quantiles=[0.0, 0.5])
    with pytest.raises(ValueError, match="symmetric grid"):
        weighted_interval_score(y, q[:, :2], quantiles=[0.1, 0.5])
    with pytest.raises(ValueError, match=r"shape \(n_samples, 2\)"):
        interval_coverage(y, q)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        pinball_loss(y[:10], q, quantiles=LEVELS)
