import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)

from skensemble.inspection import effective_parameters, smoother_weights


def _onehot(y, classes):
    return (np.asarray(y)[:, None] == classes[None, :]).astype(float)


@pytest.mark.parametrize(
    "forest",
    [
        RandomForestRegressor(n_estimators=15, random_state=0),
        RandomForestRegressor(n_estimators=15, max_samples=0.5, random_state=0),
        RandomForestRegressor(n_estimators=15, max_samples=70, random_state=0),
        RandomForestRegressor(
            n_estimators=15, min_samples_leaf=4, max_features=0.5, random_state=0
        ),
        RandomForestRegressor(n_estimators=15, criterion="poisson", random_state=0),
        ExtraTreesRegressor(n_estimators=15, random_state=0),
        ExtraTreesRegressor(n_estimators=15, bootstrap=True, random_state=0),
    ],
)
@pytest.mark.parametrize("weighted", [False, True])
def test_regressor_weights_reproduce_predict(forest, weighted, regression_data):
    X, y, X_query = regression_data
    y = y - y.min() + 0.1  # poisson needs positive targets
    sample_weight = np.linspace(0.2, 3.0, X.shape[0]) if weighted else None
    forest.fit(X, y, sample_weight=sample_weight)
    for query in (X_query, None):
        result = smoother_weights(forest, X, query, sample_weight=sample_weight)
        expected = forest.predict(X if query is None else query)
        np.testing.assert_allclose(
            result.weights @ y + result.offset, expected, rtol=0, atol=1e-10
        )
        assert sparse.issparse(result.weights)
        assert result.weights.min() >= 0
        np.testing.assert_allclose(result.weights.sum(axis=1).A1, 1.0, atol=1e-12)
        np.testing.assert_array_equal(result.offset, 0.0)


@pytest.mark.parametrize("forest_class", [RandomForestClassifier, ExtraTreesClassifier])
@pytest.mark.parametrize("class_weight", [None, "balanced"])
def test_classifier_weights_reproduce_predict_proba(
    forest_class, class_weight, classification_data
):
    X, y, X_query = classification_data
    labels = np.array(["low", "mid", "high"])[y]
    forest = forest_class(
        n_estimators=12, bootstrap=True, class_weight=class_weight, random_state=0
    ).fit(X, labels)
    weights = smoother_weights(forest, X, X_query).weights
    np.testing.assert_allclose(
        weights @ _onehot(labels, forest.classes_),
        forest.predict_proba(X_query),
        atol=1e-10,
    )


def test_oob_weights_reproduce_oob_prediction(regression_data):
    X, y, _ = regression_data
    forest = RandomForestRegressor(n_estimators=40, oob_score=True, random_state=0).fit(
        X, y
    )
    weights = smoother_weights(forest, X, oob=True).weights
    np.testing.assert_allclose(weights @ y, forest.oob_prediction_, atol=1e-10)
    np.testing.assert_array_equal(weights.diagonal(), 0.0)


def test_oob_weights_reproduce_oob_decision_function(classification_data):
    X, y, _ = classification_data
    forest = RandomForestClassifier(
        n_estimators=40, oob_score=True, random_state=0
    ).fit(X, y)
    weights = smoother_weights(forest, X, oob=True).weights
    np.testing.assert_allclose(
        weights @ _onehot(y, forest.classes_), forest.oob_decision_function_, atol=1e-10
    )


def test_interpolating_forest_has_n_effective_parameters_on_training_inputs(
    regression_data,
):
    X, y, X_query = regression_data
    forest = RandomForestRegressor(
        n_estimators=10, bootstrap=False, max_features=0.5, random_state=0
    ).fit(X, y)
    assert effective_parameters(forest, X) == pytest.approx(X.shape[0], rel=1e-12)
    assert effective_parameters(forest, X, X_query) < X.shape[0]


def test_single_tree_weights_are_its_leaf_average(regression_data):
    X, y, X_query = regression_data
    forest = RandomForestRegressor(
        n_estimators=1, bootstrap=False, min_samples_leaf=7, random_state=0
    ).fit(X, y)
    weights = smoother_weights(forest, X, X_query).weights.toarray()
    leaf_train = forest.apply(X)[:, 0]
    leaf_query = forest.apply(X_query)[:, 0]
    same_leaf = leaf_query[:, None] == leaf_train[None, :]
    np.testing.assert_allclose(
        weights, same_leaf / same_leaf.sum(axis=1, keepdims=True), atol=1e-15
    )


@settings(max_examples=15, deadline=None)
@given(
    n_samples=st.integers(20, 80),
    n_estimators=st.integers(1, 8),
    bootstrap=st.booleans(),
    max_features=st.sampled_from([1.0, 0.5, 1]),
    min_samples_leaf=st.integers(1, 5),
    extra=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_forest_identity_holds_over_random_settings(
    n_samples, n_estimators, bootstrap, max_features, min_samples_leaf, extra, seed
):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, 3))
    y = X[:, 0] + rng.normal(size=n_samples)
    forest_class = ExtraTreesRegressor if extra else RandomForestRegressor
    forest = forest_class(
        n_estimators=n_estimators,
        bootstrap=bootstrap,
        max_features=max_features,
        min_samples_leaf=min_samples_leaf,
        random_state=seed,
    ).fit(X, y)
    X_query = rng.normal(size=(10, 3))
    weights = smoother_weights(forest, X, X_query).weights
    np.testing.assert_allclose(weights @ y, forest.predict(X_query), atol=1e-10)
    assert weights.min() >= 0
    np.testing.assert_allclose(weights.sum(axis=1).A1, 1.0, atol=1e-12)


def test_inputs_are_not_modified(regression_data):
    X, y, X_query = regression_data
    sample_weight = np.linspace(1, 2, X.shape[0])
    copies = X.copy(), X_query.copy(), sample_weight.copy()
    forest = RandomForestRegressor(n_estimators=5, random_state=0)
    forest.fit(X, y, sample_weight=sample_weight)
    smoother_weights(forest, X, X_query, sample_weight=sample_weight)
    for original, copy in zip((X, X_query, sample_weight), copies):
        np.testing.assert_array_equal(original, copy)


def test_wrong_training_rows_are_detected(regression_data):
    X, y, _ = regression_data
    forest = RandomForestRegressor(n_estimators=5, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="X_train"):
        smoother_weights(forest, X[::-1])
    weighted = RandomForestRegressor(n_estimators=5, bootstrap=False, random_state=0)
    weighted.fit(X, y, sample_weight=np.linspace(1, 5, X.shape[0]))
    with pytest.raises(ValueError, match="sample_weight"):
        smoother_weights(weighted, X)


@pytest.mark.parametrize(
    "forest, message",
    [
        (
            RandomForestRegressor(n_estimators=3, criterion="absolute_error"),
            "criterion",
        ),
        (
            RandomForestRegressor(n_estimators=3, monotonic_cst=[1, 0, 0, 0]),
            "monotonic",
        ),
        (
            RandomForestClassifier(n_estimators=3, class_weight="balanced_subsample"),
            "class_weight",
        ),
        (ExtraTreesClassifier(n_estimators=3, class_weight="balanced"), "class_weight"),
    ],
)
def test_non_linear_forests_are_refused(forest, message, regression_data):
    X, y, _ = regression_data
    if hasattr(forest, "class_weight"):
        y = (y > np.median(y)).astype(int)
    forest.fit(X, y)
    with pytest.raises(ValueError, match=message):
        smoother_weights(forest, X)


def test_oob_needs_bootstrap_and_training_rows(regression_data):
    X, y, X_query = regression_data
    forest = ExtraTreesRegressor(n_estimators=3, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="bootstrap=True"):
        smoother_weights(forest, X, oob=True)
    forest = RandomForestRegressor(n_estimators=3, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="X=None"):
        smoother_weights(forest, X, X_query, oob=True)


def test_shape_and_fit_errors(regression_data):
    X, y, X_query = regression_data
    with pytest.raises(Exception, match="not fitted"):
        smoother_weights(RandomForestRegressor(), X)
    forest = RandomForestRegressor(n_estimators=3, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        smoother_weights(forest, X, X[:, :2])
    with pytest.raises(ValueError, match="at least one row"):
        smoother_weights(forest, X, X[:0])
    with pytest.raises(ValueError, match="2-dimensional"):
        smoother_weights(forest, X, X[0])
    with pytest.raises(ValueError, match="X_train has 10 rows"):
        smoother_weights(forest, X[:10], X_query)
    with pytest.raises(ValueError, match="do not reproduce the leaf masses"):
        smoother_weights(forest, X[::-1], X_query)


def test_multi_output_regressor(regression_data):
    X, y, X_query = regression_data
    targets = np.column_stack([y, y**2])
    forest = RandomForestRegressor(n_estimators=8, random_state=0).fit(X, targets)
    weights = smoother_weights(forest, X, X_query).weights
    np.testing.assert_allclose(weights @ targets, forest.predict(X_query), atol=1e-10)
