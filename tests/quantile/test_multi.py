import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import GradientBoostingRegressor, HistGradientBoostingRegressor
from sklearn.linear_model import LinearRegression, QuantileRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from xgboost import XGBRegressor

from skensemble.quantile import MultiQuantileRegressor, count_crossings

from ._helpers import EmpiricalQuantiles, heteroscedastic

LEVELS = [0.1, 0.3, 0.5, 0.7, 0.9]

BASE_MODELS = {
    "gbr": GradientBoostingRegressor(loss="quantile", n_estimators=20, random_state=0),
    "hgb": HistGradientBoostingRegressor(loss="quantile", max_iter=20),
    "linear": QuantileRegressor(alpha=0.0),
    "xgb": XGBRegressor(
        objective="reg:quantileerror", n_estimators=20, max_depth=2, n_jobs=1
    ),
}


@pytest.fixture(scope="module")
def data():
    return heteroscedastic(300, random_state=0)


@pytest.mark.parametrize("name", sorted(BASE_MODELS))
def test_every_supported_kind_predicts_sorted_levels(name, data):
    X, y = data
    model = MultiQuantileRegressor(BASE_MODELS[name], quantiles=LEVELS).fit(X, y)
    predictions = model.predict(X, quantiles=LEVELS)
    assert predictions.shape == (300, 5)
    assert count_crossings(predictions) == 0
    coverage = np.mean((predictions[:, 0] <= y) & (y <= predictions[:, -1]))
    assert 0.6 < coverage < 0.95


def test_quantile_forest_uses_its_native_levels(data):
    quantile_forest = pytest.importorskip("quantile_forest")
    X, y = data
    forest = quantile_forest.RandomForestQuantileRegressor(
        n_estimators=20, min_samples_leaf=5, random_state=0
    )
    model = MultiQuantileRegressor(forest, quantiles=LEVELS).fit(X, y)
    assert model.strategy_ == "forest"
    expected = np.sort(model.estimators_[0].predict(X, quantiles=LEVELS), axis=1)
    np.testing.assert_allclose(model.predict(X, quantiles=LEVELS), expected)


def test_per_level_clones_get_their_level(data):
    X, y = data
    model = MultiQuantileRegressor(QuantileRegressor(alpha=0.0), quantiles=LEVELS)
    model.fit(X, y)
    assert [est.quantile for est in model.estimators_] == LEVELS
    np.testing.assert_allclose(
        model.predict(X, quantiles=[0.1])[:, 0],
        np.minimum.reduce([est.predict(X) for est in model.estimators_]),
    )


def test_interpolates_inside_the_grid_and_refuses_outside(data):
    X, y = data
    model = MultiQuantileRegressor(QuantileRegressor(alpha=0.0), quantiles=LEVELS)
    model.fit(X, y)
    grid = model.predict(X, quantiles=[0.3, 0.5])
    middle = model.predict(X, quantiles=[0.4])[:, 0]
    np.testing.assert_allclose(middle, grid.mean(axis=1))
    np.testing.assert_allclose(model.predict(X), grid[:, 1])
    with pytest.raises(ValueError, match="outside the fitted grid"):
        model.predict(X, quantiles=[0.05])
    with pytest.raises(ValueError, match="outside the fitted grid"):
        model.predict_interval(X, confidence=0.95)


def test_unsupported_or_misconfigured_models_fail_in_fit(data):
    X, y = data
    with pytest.raises(TypeError, match="Cannot make LinearRegression predict"):
        MultiQuantileRegressor(LinearRegression()).fit(X, y)
    with pytest.raises(ValueError, match="loss='quantile'"):
        MultiQuantileRegressor(HistGradientBoostingRegressor()).fit(X, y)
    with pytest.raises(ValueError, match="reg:quantileerror"):
        MultiQuantileRegressor(XGBRegressor()).fit(X, y)
    with pytest.raises(ValueError, match="strictly increasing"):
        MultiQuantileRegressor(QuantileRegressor(), quantiles=[0.5, 0.1]).fit(X, y)


def test_pickle_round_trip_keeps_predictions(data):
    X, y = data
    model = MultiQuantileRegressor(BASE_MODELS["hgb"], quantiles=LEVELS).fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(
        restored.predict(X, quantiles=LEVELS), model.predict(X, quantiles=LEVELS)
    )


class _NeuralQuantiles(EmpiricalQuantiles):
    """Stands for a multi-quantile network such as TabMRegressor(loss=...)."""

    def __init__(self, quantiles=(0.1, 0.5, 0.9), loss="quantile"):
        super().__init__(quantiles=quantiles)
        self.loss = loss

    predict_interval = None


def test_models_with_quantiles_and_loss_parameters_are_used_natively(data):
    X, y = data
    model = MultiQuantileRegressor(_NeuralQuantiles(), quantiles=LEVELS).fit(X, y)
    assert model.strategy_ == "native"
    np.testing.assert_array_equal(model.estimators_[0].quantiles_, LEVELS)
    with pytest.raises(ValueError, match="loss='quantile'"):
        MultiQuantileRegressor(_NeuralQuantiles(loss="squared_error")).fit(X, y)


class _WeightedNeuralQuantiles(_NeuralQuantiles):
    def fit(self, X, y, sample_weight=None):
        self.sample_weight_ = sample_weight
        return super().fit(X, y)


def test_integer_sample_weights_equal_repeating_the_rows(data):
    X, y = data
    weights = np.random.RandomState(0).randint(0, 3, size=len(y))
    linear = MultiQuantileRegressor(QuantileRegressor(alpha=0.0), quantiles=LEVELS)
    weighted = linear.fit(X, y, sample_weight=weights).predict(X, quantiles=LEVELS)
    repeated = (
        MultiQuantileRegressor(QuantileRegressor(alpha=0.0), quantiles=LEVELS)
        .fit(np.repeat(X, weights, axis=0), np.repeat(y, weights))
        .predict(X, quantiles=LEVELS)
    )
    np.testing.assert_allclose(weighted, repeated, atol=1e-6)
    native = MultiQuantileRegressor(_WeightedNeuralQuantiles(), quantiles=LEVELS)
    native.fit(X, y, sample_weight=weights)
    np.testing.assert_array_equal(native.estimators_[0].sample_weight_, weights)


def test_bad_sample_weights_are_refused(data):
    X, y = data
    model = MultiQuantileRegressor(QuantileRegressor(alpha=0.0), quantiles=LEVELS)
    with pytest.raises(ValueError, match="non-negative"):
        model.fit(X, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(ValueError, match="does not accept sample_weight"):
        MultiQuantileRegressor(EmpiricalQuantiles()).fit(
            X, y, sample_weight=np.ones(len(y))
        )


def test_a_pipeline_ending_in_a_quantile_model_gets_its_levels(data):
    X, y = data
    weights = np.random.default_rng(0).integers(1, 3, size=len(y)).astype(float)
    scaler = StandardScaler().fit(X)
    pipeline = make_pipeline(StandardScaler(), QuantileRegressor(alpha=0.0))
    model = MultiQuantileRegressor(pipeline, quantiles=LEVELS)
    model.fit(X, y, sample_weight=weights)
    direct = MultiQuantileRegressor(QuantileRegressor(alpha=0.0), quantiles=LEVELS)
    direct.fit(scaler.transform(X), y, sample_weight=weights)
    assert [m[-1].quantile for m in model.estimators_] == LEVELS
    np.testing.assert_allclose(
        model.predict(X, quantiles=LEVELS),
        direct.predict(scaler.transform(X), quantiles=LEVELS),
        rtol=1e-6,
        atol=1e-6,
    )
    xgb = make_pipeline(StandardScaler(), BASE_MODELS["xgb"])
    fitted = MultiQuantileRegressor(xgb, quantiles=LEVELS).fit(X, y)
    alpha = fitted.estimators_[0][-1].get_params()["quantile_alpha"]
    np.testing.assert_array_equal(alpha, LEVELS)


def test_missing_values_pass_to_models_that_take_them(data):
    X, y = data
    X = X.copy()
    X[::9, 0] = np.nan
    hgb = BASE_MODELS["hgb"]
    model = MultiQuantileRegressor(hgb, quantiles=LEVELS).fit(X, y)
    assert model.__sklearn_tags__().input_tags.allow_nan
    clones = [
        clone(hgb).set_params(quantile=level).fit(X, y).predict(X) for level in LEVELS
    ]
    np.testing.assert_array_equal(
        model.predict(X, quantiles=LEVELS), np.sort(np.column_stack(clones), axis=1)
    )
    linear = MultiQuantileRegressor(QuantileRegressor(alpha=0.0), quantiles=LEVELS)
    assert not linear.__sklearn_tags__().input_tags.allow_nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        linear.fit(X, y)


class DuckQuantiles:
    """A quantile model without scikit-learn's base classes (so without tags)."""

    def get_params(self, deep=True):
        return {}

    def set_params(self, **params):
        return self

    def fit(self, X, y):
        self.y_ = np.asarray(y)
        return self

    def predict(self, X, quantiles=(0.5,)):
        return np.tile(np.quantile(self.y_, quantiles), (len(X), 1))

    def predict_interval(self, X, confidence=0.9):
        return self.predict(X, [(1 - confidence) / 2, (1 + confidence) / 2])


def test_a_model_without_scikit_learn_tags_is_still_accepted(data):
    X, y = data
    model = MultiQuantileRegressor(DuckQuantiles(), quantiles=LEVELS).fit(X, y)
    assert model.strategy_ == "native"
    assert not model.__sklearn_tags__().input_tags.allow_nan
    np.testing.assert_allclose(
        model.predict(X[:1], quantiles=LEVELS)[0], np.quantile(y, LEVELS)
    )
