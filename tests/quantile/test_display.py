"""QuantileCalibrationDisplay and QuantileIntervalDisplay: values and errors."""

import numpy as np
import pytest
from sklearn.datasets import make_regression
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, QuantileRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skensemble.quantile import (
    MultiQuantileRegressor,
    QuantileCalibrationDisplay,
    QuantileIntervalDisplay,
)

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

LEVELS = [0.1, 0.5, 0.9]


@pytest.fixture(scope="module")
def fitted():
    X, y = make_regression(n_samples=120, n_features=2, noise=5, random_state=0)
    model = MultiQuantileRegressor(QuantileRegressor(alpha=0.0), quantiles=LEVELS)
    return model.fit(X, y), X, y


def test_calibration_display_counts_the_targets_below_each_quantile():
    y = np.arange(10.0)
    y_pred = np.tile([2.5, 4.5, 8.5], (10, 1))  # 3, 5 and 9 targets at or below
    display = QuantileCalibrationDisplay.from_predictions(y, y_pred, quantiles=LEVELS)
    np.testing.assert_allclose(display.empirical_levels, [0.3, 0.5, 0.9])
    assert display.calibration_error == pytest.approx((0.2 + 0.0 + 0.0) / 3)
    np.testing.assert_allclose(display.line_.get_ydata(), [0.3, 0.5, 0.9])


def test_calibration_display_from_estimator_uses_the_fitted_grid(fitted):
    model, X, y = fitted
    display = QuantileCalibrationDisplay.from_estimator(model, X, y)
    expected = QuantileCalibrationDisplay.from_predictions(
        y, model.predict(X, quantiles=LEVELS), quantiles=LEVELS
    )
    np.testing.assert_array_equal(display.quantiles, LEVELS)
    np.testing.assert_array_equal(display.empirical_levels, expected.empirical_levels)
    assert display.estimator_name == "MultiQuantileRegressor"
    subset = QuantileCalibrationDisplay.from_estimator(model, X, y, quantiles=[0.5])
    assert subset.empirical_levels.shape == (1,)


def test_interval_display_holds_the_predicted_band(fitted):
    model, X, y = fitted
    display = QuantileIntervalDisplay.from_estimator(model, X, y, confidence=0.8)
    predictions = model.predict(X, quantiles=LEVELS)
    np.testing.assert_array_equal(display.y_interval, predictions[:, [0, 2]])
    np.testing.assert_array_equal(display.y_median, predictions[:, 1])
    inside = (predictions[:, 0] <= y) & (y <= predictions[:, 2])
    assert display.coverage == inside.mean()


@pytest.mark.parametrize(
    "display", [QuantileCalibrationDisplay, QuantileIntervalDisplay]
)
def test_displays_refuse_unfitted_and_non_quantile_models(fitted, display):
    _, X, y = fitted
    unfitted = MultiQuantileRegressor(QuantileRegressor(alpha=0.0), quantiles=LEVELS)
    with pytest.raises(NotFittedError):
        display.from_estimator(unfitted, X, y)
    with pytest.raises(TypeError, match="does not take quantiles="):
        display.from_estimator(LinearRegression().fit(X, y), X, y)


def test_calibration_display_of_a_model_without_a_grid_needs_the_levels(fitted):
    model, X, y = fitted
    pipeline = make_pipeline(StandardScaler(), model).fit(X, y)
    with pytest.raises(TypeError, match="pass the levels to check as quantiles="):
        QuantileCalibrationDisplay.from_estimator(pipeline, X, y)
    display = QuantileCalibrationDisplay.from_estimator(
        pipeline, X, y, quantiles=LEVELS
    )
    assert display.empirical_levels.shape == (3,)
