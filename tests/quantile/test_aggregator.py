import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, QuantileRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skensemble.metrics import pinball_loss
from skensemble.quantile import (
    MultiQuantileRegressor,
    QuantileAggregator,
    count_crossings,
)
from skensemble.tabm import TabMRegressor

from ._helpers import EmpiricalQuantiles, FixedQuantiles, Memorizer, heteroscedastic

LEVELS = [0.1, 0.25, 0.5, 0.75, 0.9]
FAST = {"max_iter": 30, "n_iter_no_change": 5, "random_state": 0}


@pytest.fixture(scope="module")
def data():
    return heteroscedastic(400, random_state=1)


def two_models():
    return [
        ("linear", MultiQuantileRegressor(QuantileRegressor(alpha=0.0))),
        ("hgb", HistGradientBoostingRegressor(loss="quantile", max_iter=15)),
    ]


TABM = TabMRegressor(loss="quantile", k=2, d_block=8, max_iter=2, random_state=0)


@pytest.mark.parametrize(
    "base, alone",
    [
        (
            QuantileRegressor(alpha=0.0),
            MultiQuantileRegressor(
                QuantileRegressor(alpha=0.0), quantiles=LEVELS, noncrossing=None
            ),
        ),
        # A Pipeline ending in a quantile model is a base model too, per-level
        # or native (which has no quantiles_ of its own).
        (
            make_pipeline(FunctionTransformer(), QuantileRegressor(alpha=0.0)),
            MultiQuantileRegressor(
                QuantileRegressor(alpha=0.0), quantiles=LEVELS, noncrossing=None
            ),
        ),
        (
            make_pipeline(FunctionTransformer(), TABM),
            clone(TABM).set_params(quantiles=LEVELS),
        ),
    ],
    ids=["linear", "linear-pipeline", "tabm-pipeline"],
)
def test_one_model_with_global_coarse_weights_reproduces_it(data, base, alone):
    X, y = data
    aggregator = QuantileAggregator(
        [("only", base)],
        quantiles=LEVELS,
        weights="global",
        granularity="coarse",
        noncrossing=None,
        **FAST,
    ).fit(X, y)
    alone = clone(alone).fit(X, y)
    np.testing.assert_allclose(aggregator.weights_, [1.0])
    np.testing.assert_allclose(
        aggregator.predict(X, quantiles=LEVELS),
        alone.predict(X, quantiles=LEVELS),
        rtol=1e-5,
        atol=1e-5,
    )


def test_weights_are_trained_on_out_of_fold_predictions_only(data):
    X, y = data
    aggregator = QuantileAggregator(
        [("memorizer", Memorizer()), ("empirical", EmpiricalQuantiles())],
        quantiles=LEVELS,
        weights="global",
        granularity="medium",
        **FAST,
    ).fit(X, y)
    # The memorizer recalls targets of rows it was trained on; out of fold it
    # can only answer `unseen`, so any other value would be a leak.
    assert np.all(aggregator.oof_predictions_[:, 0] == -999.0)
    # Refitted on all rows it recalls every training target.
    np.testing.assert_allclose(aggregator.estimators_[0].predict(X), y)


def test_non_finite_base_predictions_fail_loudly(data):
    X, y = data
    aggregator = QuantileAggregator(
        [("memorizer", Memorizer(unseen=np.nan))], weights="global", **FAST
    )
    with pytest.raises(ValueError, match="non-finite"):
        aggregator.fit(X, y)


@pytest.mark.parametrize(
    ("weights", "granularity", "shape"),
    [
        ("global", "coarse", (2,)),
        ("global", "medium", (2, 5)),
        ("global", "fine", (2, 5, 5)),
        ("local", "coarse", (2,)),
        ("local", "medium", (2, 5)),
        ("local", "fine", (2, 5, 5)),
    ],
)
def test_six_families_fit_and_give_simplex_weights(data, weights, granularity, shape):
    X, y = data
    aggregator = QuantileAggregator(
        two_models(),
        quantiles=LEVELS,
        weights=weights,
        granularity=granularity,
        **FAST,
    ).fit(X, y)
    assert aggregator.weights_.shape == shape
    assert np.all(aggregator.weights_ >= 0)
    totals = aggregator.weights_.sum(axis=(0, 1) if granularity == "fine" else 0)
    np.testing.assert_allclose(totals, 1.0, rtol=1e-5)
    predictions = aggregator.predict(X, quantiles=LEVELS)
    assert predictions.shape == (400, 5)
    assert count_crossings(predictions) == 0
    assert aggregator.n_iter_ >= 1
    assert aggregator.oof_predictions_.shape == (400, 2, 5)
    assert aggregator.predict_weights(X[:3]).shape == (3, *shape)


def test_learned_weights_beat_a_bad_model_and_prefer_the_good_one(data):
    X, y = data
    aggregator = QuantileAggregator(
        [("empirical", EmpiricalQuantiles()), ("linear", QuantileRegressor(alpha=0.0))],
        quantiles=LEVELS,
        weights="global",
        granularity="coarse",
        learning_rate=0.05,
        **FAST,
    ).fit(X, y)
    assert aggregator.weights_[1] > aggregator.weights_[0]


def test_mean_and_median_baselines_combine_base_quantiles(data):
    X, y = data
    base = [
        ("linear", QuantileRegressor(alpha=0.0)),
        ("empirical", EmpiricalQuantiles()),
    ]
    predictions = []
    for _, estimator in base:
        model = MultiQuantileRegressor(estimator, quantiles=LEVELS, noncrossing=None)
        predictions.append(model.fit(X, y).predict(X, quantiles=LEVELS))
    for weights, combine in (("mean", np.mean), ("median", np.median)):
        aggregator = QuantileAggregator(
            base, quantiles=LEVELS, weights=weights, noncrossing=None
        ).fit(X, y)
        np.testing.assert_allclose(
            aggregator.predict(X, quantiles=LEVELS),
            combine(np.stack(predictions), axis=0),
        )
        assert aggregator.n_iter_ == 0


def test_noncrossing_post_processing_never_hurts(data):
    X, y = data
    raw = QuantileAggregator(
        two_models(), quantiles=LEVELS, noncrossing=None, crossing_penalty=0.0, **FAST
    ).fit(X, y)
    fixed = QuantileAggregator(
        two_models(), quantiles=LEVELS, noncrossing="sort", crossing_penalty=0.0, **FAST
    ).fit(X, y)
    raw_loss = pinball_loss(y, raw.predict(X, quantiles=LEVELS), quantiles=LEVELS)
    fixed_loss = pinball_loss(y, fixed.predict(X, quantiles=LEVELS), quantiles=LEVELS)
    assert fixed_loss <= raw_loss + 1e-9


def test_same_random_state_gives_same_predictions(data):
    X, y = data
    first = QuantileAggregator(two_models(), quantiles=LEVELS, **FAST).fit(X, y)
    second = QuantileAggregator(two_models(), quantiles=LEVELS, **FAST).fit(X, y)
    np.testing.assert_array_equal(
        first.predict(X, quantiles=LEVELS), second.predict(X, quantiles=LEVELS)
    )


def test_pickle_round_trip_keeps_predictions(data):
    X, y = data
    for conformal in (None, "split", "cv+"):
        model = QuantileAggregator(
            two_models(), quantiles=LEVELS, conformal=conformal, cv=3, **FAST
        ).fit(X, y)
        restored = pickle.loads(pickle.dumps(model))
        np.testing.assert_array_equal(
            restored.predict(X, quantiles=LEVELS), model.predict(X, quantiles=LEVELS)
        )


def test_verbose_prints_progress(data, capsys):
    X, y = data
    QuantileAggregator(
        [("empirical", EmpiricalQuantiles())],
        quantiles=LEVELS,
        weights="global",
        verbose=1,
        max_iter=2,
        random_state=0,
    ).fit(X, y)
    assert "validation pinball" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"estimators": []}, ValueError, "non-empty list"),
        ({"estimators": [LinearRegression()]}, ValueError, r"\(name, estimator\)"),
        (
            {"estimators": [("a", EmpiricalQuantiles()), ("a", EmpiricalQuantiles())]},
            ValueError,
            "unique",
        ),
        ({"estimators": [("ols", LinearRegression())]}, TypeError, "Cannot make"),
        (
            {"estimators": [("a", EmpiricalQuantiles()), ("b", "drop")]},
            ValueError,
            "named 'b' is 'drop', which has no fit",
        ),
        ({"quantiles": [0.5, 1.2]}, ValueError, "strictly between 0 and 1"),
        ({"quantiles": [0.2, 0.5], "conformal": "split"}, ValueError, "symmetric"),
        ({"device": "gpu0"}, ValueError, "device"),
        ({"weights": "best"}, ValueError, "weights"),
    ],
)
def test_bad_parameters_fail_in_fit_with_clear_errors(data, params, error, match):
    X, y = data
    settings = {"estimators": [("empirical", EmpiricalQuantiles())], **params}
    aggregator = QuantileAggregator(**settings)
    with pytest.raises(error, match=match):
        aggregator.fit(X, y)


def test_bad_data_fails_clearly(data):
    X, y = data
    aggregator = QuantileAggregator([("empirical", EmpiricalQuantiles())])
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        aggregator.fit(X_nan, y)
    with pytest.raises(ValueError, match="cross-fitting"):
        aggregator.fit(X[:6], y[:6])
    with pytest.raises(NotFittedError):
        aggregator.predict(X)


def test_inputs_are_not_modified(data):
    X, y = data
    X_copy, y_copy = X.copy(), y.copy()
    QuantileAggregator(two_models(), quantiles=LEVELS, **FAST).fit(X, y)
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(y, y_copy)


def test_sample_weight_reaches_every_base_fit_and_steers_the_weights():
    # Rows of weight 1 sit around 0, where model "zero" is right; three times
    # as many rows of weight 0 sit around 10, where model "ten" is right.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 2))
    heavy = np.arange(400) < 100
    y = np.where(heavy, 0.0, 10.0) + rng.normal(scale=0.5, size=400)
    weight = heavy.astype(float)
    estimators = [("zero", FixedQuantiles()), ("ten", FixedQuantiles(center=10.0))]
    params = dict(quantiles=LEVELS, weights="global", granularity="coarse", cv=3)
    weighted = QuantileAggregator(estimators, **params, random_state=0)
    weighted.fit(X, y, sample_weight=weight)
    unweighted = QuantileAggregator(estimators, **params, random_state=0).fit(X, y)
    assert weighted.weights_[0] > 0.9 > unweighted.weights_[0]
    for model in weighted.estimators_:  # fitted on all rows, with their weights
        np.testing.assert_array_equal(model.sample_weight_, weight)


def test_bad_sample_weights_fail_clearly(data):
    X, y = data
    ones = np.ones(len(y))
    with pytest.raises(ValueError, match="'empirical'.*does not accept sample_weight"):
        QuantileAggregator([("empirical", EmpiricalQuantiles())], **FAST).fit(
            X, y, sample_weight=ones
        )
    with pytest.raises(ValueError, match="non-negative"):
        QuantileAggregator(two_models(), **FAST).fit(X, y, sample_weight=-ones)
