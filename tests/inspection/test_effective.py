import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn.compose import make_column_transformer
from sklearn.ensemble import (
    ExtraTreesRegressor,
    GradientBoostingRegressor,
    HistGradientBoostingRegressor,
    RandomForestRegressor,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skensemble.inspection import (
    SmootherDisplay,
    effective_parameters,
    effective_sample_size,
    make_mars_additive,
    similar_training_examples,
    smoother_weights,
)

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def mars():
    X, y = make_mars_additive(n_samples=300, random_state=0)
    X_test, _ = make_mars_additive(n_samples=200, random_state=1)
    return X, y, X_test


def _dense(weights):
    return weights.toarray() if hasattr(weights, "toarray") else weights


@pytest.mark.parametrize(
    "model",
    [
        RandomForestRegressor(n_estimators=20, random_state=0),
        GradientBoostingRegressor(n_estimators=20, random_state=0),
    ],
)
def test_effective_parameters_matches_its_definition(model, mars):
    X, y, X_test = mars
    model.fit(X, y)
    weights = _dense(smoother_weights(model, X, X_test).weights)
    expected = X.shape[0] * np.mean(np.sum(weights**2, axis=1))
    assert effective_parameters(model, X, X_test) == pytest.approx(expected)
    n_eff = effective_sample_size(model, X, X_test)
    np.testing.assert_allclose(1.0 / n_eff, np.sum(weights**2, axis=1))
    assert X.shape[0] * np.mean(1.0 / n_eff) == pytest.approx(expected)


def test_effective_parameters_of_a_tree_with_equal_leaves_is_n_over_leaf_size():
    # Leaves of exactly k rows give ||s(x)||^2 = 1/k at every training input.
    X = np.repeat(np.arange(20.0), 5)[:, None]
    y = np.sin(X[:, 0])
    forest = RandomForestRegressor(
        n_estimators=1, bootstrap=False, min_samples_leaf=5, random_state=0
    ).fit(X, y)
    assert effective_parameters(forest, X) == pytest.approx(100 / 5)


def test_randomised_forest_smooths_more_on_test_inputs(mars):
    X, y, X_test = mars
    forest = RandomForestRegressor(
        n_estimators=50, bootstrap=False, max_features=0.4, random_state=0
    ).fit(X, y)
    p_train = effective_parameters(forest, X)
    p_test = effective_parameters(forest, X, X_test)
    assert p_train == pytest.approx(X.shape[0])
    assert p_test < 0.5 * p_train


def test_similar_training_examples_are_the_largest_weights(mars):
    X, y, X_test = mars
    forest = RandomForestRegressor(
        n_estimators=10, min_samples_leaf=3, random_state=0
    ).fit(X, y)
    result = similar_training_examples(forest, X, X_test[:7], n=4)
    weights = smoother_weights(forest, X, X_test[:7]).weights.toarray()
    np.testing.assert_allclose(
        result.weights, -np.sort(-weights, axis=1)[:, :4], atol=1e-15
    )
    np.testing.assert_allclose(
        np.take_along_axis(weights, result.indices, axis=1), result.weights
    )
    np.testing.assert_allclose(result.coverage, result.weights.sum(axis=1))
    with pytest.raises(ValueError, match="positive integer"):
        similar_training_examples(forest, X, X_test, n=0)


def test_training_row_is_its_own_most_similar_example_in_an_interpolating_forest(mars):
    X, y, _ = mars
    forest = ExtraTreesRegressor(n_estimators=5, random_state=0).fit(X, y)
    result = similar_training_examples(forest, X, X[:10], n=1)
    np.testing.assert_array_equal(result.indices[:, 0], np.arange(10))
    np.testing.assert_allclose(result.coverage, 1.0)


def test_display_ensemble_size_sweep(mars):
    X, y, X_test = mars
    forest = RandomForestRegressor(
        n_estimators=30, bootstrap=False, max_features=0.4, random_state=0
    ).fit(X, y)
    display = SmootherDisplay.from_estimator(forest, X, X_test, n_points=4)
    np.testing.assert_array_equal(display.x_values, [1, 11, 20, 30])
    np.testing.assert_allclose(display.train_parameters, X.shape[0])
    # One tree does not smooth at test inputs any more than on training inputs
    # in expectation, and adding randomised trees lowers p_test.
    assert display.test_parameters[-1] < display.test_parameters[0]
    assert display.ax_.get_xlabel().startswith("number of trees")
    assert len(display.ax_.get_lines()) == 2


def test_display_dissimilarity_sweep_falls_with_distance(mars):
    X, y, _ = mars
    forest = RandomForestRegressor(
        n_estimators=30, bootstrap=False, max_features=0.4, random_state=0
    ).fit(X, y)
    display = SmootherDisplay.from_estimator(
        forest,
        X,
        sweep="dissimilarity",
        offsets=(0.0, 0.05, 0.1, 0.3),
        random_state=0,
        plot=False,
    )
    assert display.test_parameters[0] == pytest.approx(X.shape[0])
    assert np.all(np.diff(display.test_parameters) < 0)


def test_display_boosting_rounds(mars):
    X, y, X_test = mars
    model = GradientBoostingRegressor(n_estimators=20, random_state=0).fit(X, y)
    display = SmootherDisplay.from_estimator(model, X, X_test, n_points=3, plot=False)
    np.testing.assert_array_equal(display.x_values, [1, 10, 20])
    staged = list(model.staged_predict(X_test))
    for size, p_test in zip(display.x_values, display.test_parameters):
        assert p_test > 0
        assert np.isfinite(staged[size - 1]).all()
    # More rounds fit the training rows more closely, so p_train grows.
    assert np.all(np.diff(display.train_parameters) > 0)


def test_display_rejects_bad_sweep(mars):
    X, y, X_test = mars
    forest = RandomForestRegressor(n_estimators=2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="sweep"):
        SmootherDisplay.from_estimator(forest, X, X_test, sweep="depth")
    with pytest.raises(ValueError, match="X_test"):
        SmootherDisplay.from_estimator(forest, X)


def test_mars_additive_noise_free_target():
    X, y = make_mars_additive(n_samples=50, noise=0.0, random_state=0)
    expected = (
        0.1 * np.exp(4 * X[:, 0])
        + 4 / (1 + np.exp(-20 * (X[:, 1] - 0.5)))
        + 3 * X[:, 2]
        + 2 * X[:, 3]
        + X[:, 4]
    )
    np.testing.assert_allclose(y, expected)
    assert X.min() >= 0 and X.max() <= 1
    with pytest.raises(ValueError, match="noise"):
        make_mars_additive(noise=-1)


def test_california_forest_smooths_more_off_the_training_data(california):
    X, y = california
    rng = np.random.default_rng(0)
    rows = rng.permutation(X.shape[0])
    X_train, y_train = X[rows[:2000]], y[rows[:2000]]
    X_test = X[rows[2000:3000]]
    forest = RandomForestRegressor(
        n_estimators=30, max_features=0.5, random_state=0, n_jobs=1
    ).fit(X_train, y_train)
    result = smoother_weights(forest, X_train, X_test)
    np.testing.assert_allclose(
        result.weights @ y_train, forest.predict(X_test), atol=1e-10
    )
    p_train = effective_parameters(forest, X_train)
    p_test = effective_parameters(forest, X_train, X_test)
    assert p_test < p_train
    display = SmootherDisplay.from_estimator(
        forest,
        X_train,
        sweep="dissimilarity",
        offsets=(0.02, 0.1),
        random_state=0,
        plot=False,
    )
    assert display.test_parameters[1] < display.test_parameters[0] < p_train


@pytest.mark.parametrize(
    "bootstrap, max_features, p_train_range, p_test_range",
    [
        # Ranges around the reference runs of the papers' setting (MARS additive,
        # n = 500, 50 trees, 500 leaves): 500/297, 500/42 and 211/46.
        (False, 1.0, (499.9, 500.1), (240, 360)),
        (False, 0.2, (499.9, 500.1), (30, 60)),
        (True, 1.0, (170, 250), (35, 60)),
    ],
)
def test_papers_simulated_setting(bootstrap, max_features, p_train_range, p_test_range):
    X, y = make_mars_additive(500, random_state=0)
    X_test, _ = make_mars_additive(500, random_state=1)
    forest = RandomForestRegressor(
        n_estimators=50,
        bootstrap=bootstrap,
        max_features=max_features,
        max_leaf_nodes=500,
        random_state=0,
    ).fit(X, y)
    p_train = effective_parameters(forest, X)
    p_test = effective_parameters(forest, X, X_test)
    assert p_train_range[0] <= p_train <= p_train_range[1]
    assert p_test_range[0] <= p_test <= p_test_range[1]


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"n_samples": 0}, ValueError, "at least 1"),
        ({"n_samples": 2.5}, TypeError, "integer"),
        ({"noise": -1.0}, ValueError, "non-negative"),
        ({"noise": float("nan")}, ValueError, "non-negative"),
    ],
)
def test_make_mars_additive_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        make_mars_additive(**kwargs)


@pytest.mark.parametrize(
    "model",
    [
        RandomForestRegressor(n_estimators=10, random_state=0),
        HistGradientBoostingRegressor(max_iter=10),
    ],
)
def test_a_pipeline_is_explained_by_its_last_step_on_transformed_rows(model):
    # A DataFrame with a string column: encoding and scaling come first.
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "size": rng.uniform(size=150),
            "colour": rng.choice(["red", "green", "blue"], size=150),
        }
    )
    y = frame["size"] * 3 + (frame["colour"] == "red") + rng.normal(0, 0.1, 150)
    encode = make_column_transformer(
        (StandardScaler(), ["size"]), (OneHotEncoder(sparse_output=False), ["colour"])
    )
    pipeline = make_pipeline(encode, model).fit(frame, y)
    result = smoother_weights(pipeline, frame, frame.head(20))
    np.testing.assert_allclose(
        result.weights @ y.to_numpy() + result.offset,
        pipeline.predict(frame.head(20)),
        rtol=1e-6,
        atol=1e-6,
    )
    rows = encode.transform(frame)
    direct = smoother_weights(pipeline[-1], rows, rows[:20]).weights
    weights = result.weights
    if sparse.issparse(weights):
        weights, direct = weights.toarray(), direct.toarray()
    np.testing.assert_array_equal(weights, direct)
    assert effective_parameters(pipeline, frame) == effective_parameters(
        pipeline[-1], rows
    )
    display = SmootherDisplay.from_estimator(
        pipeline, frame, frame.head(20), n_points=2, plot=False
    )
    assert display.estimator_name == type(model).__name__


def test_dissimilarity_sweep_of_a_pipeline_keeps_the_column_names(mars):
    X, y, _ = mars
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    select = make_column_transformer((StandardScaler(), list(frame.columns[:3])))
    forest = RandomForestRegressor(n_estimators=5, random_state=0)
    pipeline = make_pipeline(select, forest).fit(frame, y)
    display = SmootherDisplay.from_estimator(
        pipeline, frame, sweep="dissimilarity", offsets=(0, 0.1), plot=False
    )
    assert display.test_parameters[0] == pytest.approx(display.train_parameters[0])
    unused_text = frame.assign(**{frame.columns[-1]: "a"})  # the pipeline drops it
    with pytest.raises(ValueError, match="must then be numbers"):
        SmootherDisplay.from_estimator(
            pipeline, unused_text, sweep="dissimilarity", plot=False
        )
