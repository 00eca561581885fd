import numpy as np
import pytest
from quantile_forest import RandomForestQuantileRegressor
from sklearn.datasets import make_regression
from sklearn.linear_model import QuantileRegressor
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score

from skensemble.metrics import (
    crps_from_quantiles,
    make_quantile_scorer,
    pinball_loss,
    weighted_interval_score,
)
from skensemble.quantile import MultiQuantileRegressor

LEVELS = [0.1, 0.5, 0.9]


@pytest.fixture(scope="module")
def data():
    X, y = make_regression(n_samples=120, n_features=3, noise=8, random_state=0)
    return X, y


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    model = MultiQuantileRegressor(QuantileRegressor(alpha=0.0), quantiles=LEVELS)
    return model.fit(X[:80], y[:80])


@pytest.mark.parametrize(
    "name, function",
    [
        ("pinball", pinball_loss),
        ("wis", weighted_interval_score),
        ("crps", crps_from_quantiles),
    ],
)
def test_scorer_is_the_negated_metric_on_the_fitted_grid(data, fitted, name, function):
    X, y = data
    expected = function(
        y[80:], fitted.predict(X[80:], quantiles=LEVELS), quantiles=LEVELS
    )
    assert make_quantile_scorer(name)(fitted, X[80:], y[80:]) == -expected


def test_explicit_levels_and_callable_metric(data, fitted):
    X, y = data

    def upper_miss(y_true, y_pred, *, quantiles):
        return float(np.mean(y_true > y_pred[:, -1]))

    scorer = make_quantile_scorer(upper_miss, quantiles=[0.5, 0.9])
    upper = fitted.predict(X[80:], quantiles=[0.9])
    assert scorer(fitted, X[80:], y[80:]) == -np.mean(y[80:] > upper.ravel())


def test_sample_weight_reaches_the_metric(data, fitted):
    X, y = data
    weights = np.arange(1.0, 41.0)
    prediction = fitted.predict(X[80:], quantiles=LEVELS)
    expected = pinball_loss(y[80:], prediction, quantiles=LEVELS, sample_weight=weights)
    scorer = make_quantile_scorer("pinball")
    assert scorer(fitted, X[80:], y[80:], sample_weight=weights) == -expected
    assert expected != pinball_loss(y[80:], prediction, quantiles=LEVELS)


def test_estimator_without_fitted_grid_needs_levels(data):
    X, y = data
    forest = RandomForestQuantileRegressor(n_estimators=5, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="quantiles_"):
        make_quantile_scorer()(forest, X, y)
    expected = pinball_loss(y, forest.predict(X, quantiles=LEVELS), quantiles=LEVELS)
    assert make_quantile_scorer(quantiles=LEVELS)(forest, X, y) == -expected


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"metric": "mse"}, "metric must be one of"),
        ({"metric": 3}, "metric must be one of"),
        ({"quantiles": [0.5, 1.0]}, "strictly between 0 and 1"),
        ({"quantiles": []}, "at least one level"),
        ({"quantiles": [0.9, 0.1]}, "strictly increasing"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_quantile_scorer(**kwargs)


def test_grid_search_picks_the_lowest_pinball_loss(data):
    X, y = data
    model = MultiQuantileRegressor(QuantileRegressor(), quantiles=LEVELS)
    grid = {"estimator__alpha": [0.0, 50.0]}
    cv = KFold(3, shuffle=True, random_state=0)
    scorer = make_quantile_scorer()
    search = GridSearchCV(model, grid, scoring=scorer, cv=cv).fit(X, y)
    by_hand = {
        alpha: cross_val_score(
            model.set_params(estimator__alpha=alpha), X, y, scoring=scorer, cv=cv
        ).mean()
        for alpha in grid["estimator__alpha"]
    }
    assert search.best_params_["estimator__alpha"] == max(by_hand, key=by_hand.get)
    assert search.best_score_ == pytest.approx(max(by_hand.values()))
    assert search.best_params_["estimator__alpha"] == 0.0
