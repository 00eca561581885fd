"""Behaviour on a real dataset at small size (skipped without ../shared/data)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import QuantileRegressor

from skensemble.metrics import interval_coverage, weighted_interval_score
from skensemble.quantile import QuantileAggregator, count_crossings

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
LEVELS = np.array([0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95])


@pytest.fixture(scope="module")
def concrete():
    path = DATA / "uci_concrete.csv"
    if not path.exists():
        pytest.skip(f"{path} is absent (benchmark data lives beside the checkout)")
    frame = pd.read_csv(path)
    X = frame.drop(columns="target").to_numpy(dtype=float)
    y = frame["target"].to_numpy(dtype=float)
    order = np.random.RandomState(0).permutation(y.size)
    train, test = order[:600], order[600:]
    return X[train], y[train], X[test], y[test]


def test_aggregate_beats_the_worse_model_and_never_crosses(concrete):
    X, y, X_test, y_test = concrete
    aggregator = QuantileAggregator(
        [
            ("linear", QuantileRegressor(alpha=0.0)),
            ("boosting", HistGradientBoostingRegressor(loss="quantile", max_iter=50)),
        ],
        quantiles=LEVELS,
        weights="global",
        granularity="medium",
        cv=3,
        random_state=0,
    ).fit(X, y)
    predictions = aggregator.predict(X_test, quantiles=LEVELS)
    assert count_crossings(predictions) == 0
    scores = {
        name: weighted_interval_score(
            y_test, model.predict(X_test, quantiles=LEVELS), quantiles=LEVELS
        )
        for name, model in aggregator.named_estimators_.items()
    }
    aggregated = weighted_interval_score(y_test, predictions, quantiles=LEVELS)
    # Concrete strength is far from linear in its features: boosting is the
    # better model and the weights must favour it at the median.
    assert scores["boosting"] < scores["linear"]
    median = list(LEVELS).index(0.5)
    assert aggregator.weights_[1, median] > aggregator.weights_[0, median]
    assert aggregated < scores["linear"]
    assert aggregated <= 1.1 * scores["boosting"]
    coverage = interval_coverage(y_test, aggregator.predict_interval(X_test, 0.8))
    assert 0.6 < coverage < 0.95
