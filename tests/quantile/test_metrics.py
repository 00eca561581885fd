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


def test_integer_sample_weights_equal_repeating_the_rows(predictions):
    y, q = predictions
    rng = np.random.RandomState(1)
    weights = rng.randint(0, 4, size=y.size)
    weights[0] = 3
    rows = np.repeat(np.arange(y.size), weights)
    interval = q[:, [1, 5]]
    for metric in (pinball_loss, weighted_interval_score, crps_from_quantiles):
        weighted = metric(y, q, quantiles=LEVELS, sample_weight=weights)
        repeated = metric(y[rows], q[rows], quantiles=LEVELS)
        assert weighted == pytest.approx(repeated, rel=1e-12)
    error, levels = quantile_calibration_error(
        y, q, quantiles=LEVELS, sample_weight=weights, return_levels=True
    )
    expected_error, expected_levels = quantile_calibration_error(
        y[rows], q[rows], quantiles=LEVELS, return_levels=True
    )
    np.testing.assert_allclose(levels, expected_levels, rtol=1e-12)
    assert error == pytest.approx(expected_error, rel=1e-12)
    assert interval_coverage(y, interval, sample_weight=weights) == pytest.approx(
        interval_coverage(y[rows], interval[rows]), rel=1e-12
    )
    assert interval_width(interval, sample_weight=weights) == pytest.approx(
        interval_width(interval[rows]), rel=1e-12
    )


def test_weighted_pinball_matches_sklearn_per_level(predictions):
    y, q = predictions
    weights = np.random.RandomState(2).uniform(0.1, 2.0, size=y.size)
    expected = np.mean(
        [
            mean_pinball_loss(y, q[:, k], alpha=tau, sample_weight=weights)
            for k, tau in enumerate(LEVELS)
        ]
    )
    assert pinball_loss(y, q, quantiles=LEVELS, sample_weight=weights) == pytest.approx(
        expected
    )


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_inputs_are_named_in_the_error(predictions, bad):
    y, q = predictions
    y_bad, q_bad = y.copy(), q.copy()
    y_bad[3], q_bad[4, 2] = bad, bad
    kind = "NaN" if np.isnan(bad) else "infinity"
    for metric in (pinball_loss, weighted_interval_score, crps_from_quantiles):
        with pytest.raises(ValueError, match=f"y_true contains {kind}"):
            metric(y_bad, q, quantiles=LEVELS)
        with pytest.raises(ValueError, match=f"y_pred contains {kind}"):
            metric(y, q_bad, quantiles=LEVELS)
    with pytest.raises(ValueError, match=f"y_interval contains {kind}"):
        interval_coverage(y, q_bad[:, 1:3])
    with pytest.raises(ValueError, match=f"y_interval contains {kind}"):
        interval_width(q_bad[:, 1:3])
    # The inputs are left as they were.
    assert np.isnan(y_bad[3]) or np.isinf(y_bad[3])


def test_empty_inputs_and_bad_weights_raise(predictions):
    y, q = predictions
    with pytest.raises(ValueError, match="0 sample"):
        pinball_loss(y[:0], q[:0], quantiles=LEVELS)
    with pytest.raises(ValueError, match="0 sample"):
        interval_coverage(y[:0], q[:0, :2])
    with pytest.raises(ValueError, match="[Nn]egative"):
        pinball_loss(y, q, quantiles=LEVELS, sample_weight=-np.ones(y.size))
    with pytest.raises(ValueError, match=r"sample_weight.shape"):
        interval_width(q[:, :2], sample_weight=np.ones(3))
