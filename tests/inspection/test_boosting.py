import numpy as np
import pytest
import xgboost
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingRegressor,
)
from sklearn.linear_model import Ridge

from skensemble.inspection import smoother_weights


def _prediction(result, y):
    return result.weights @ y + result.offset


@pytest.mark.parametrize(
    "model",
    [
        GradientBoostingRegressor(n_estimators=40, random_state=0),
        GradientBoostingRegressor(
            n_estimators=40, init="zero", learning_rate=0.3, random_state=0
        ),
        GradientBoostingRegressor(n_estimators=40, max_depth=None, max_leaf_nodes=12),
        GradientBoostingRegressor(
            n_estimators=300,
            n_iter_no_change=3,
            validation_fraction=0.2,
            random_state=3,
        ),
    ],
)
@pytest.mark.parametrize("weighted", [False, True])
def test_gradient_boosting_identity(model, weighted, regression_data):
    X, y, X_query = regression_data
    sample_weight = np.linspace(0.5, 2.0, X.shape[0]) if weighted else None
    model.fit(X, y, sample_weight=sample_weight)
    for query in (X_query, None):
        result = smoother_weights(model, X, query, sample_weight=sample_weight)
        expected = model.predict(X if query is None else query)
        np.testing.assert_allclose(_prediction(result, y), expected, atol=1e-8)
        np.testing.assert_array_equal(result.offset, 0.0)


def test_gradient_boosting_row_sums(regression_data):
    X, y, X_query = regression_data
    mean_init = GradientBoostingRegressor(n_estimators=30).fit(X, y)
    np.testing.assert_allclose(
        smoother_weights(mean_init, X, X_query).weights.sum(axis=1), 1.0, atol=1e-12
    )
    zero_init = GradientBoostingRegressor(
        n_estimators=30, init="zero", learning_rate=0.1, max_depth=None
    ).fit(X, y)
    # Fully grown trees reproduce constants exactly, so the zero-init model
    # keeps a (1 - eta)^P share of its weight unspent.
    np.testing.assert_allclose(
        smoother_weights(zero_init, X, X_query).weights.sum(axis=1),
        1.0 - 0.9**30,
        atol=1e-12,
    )


@pytest.mark.parametrize("l2_regularization", [0.0, 2.0])
@pytest.mark.parametrize("weighted", [False, True])
def test_hist_gradient_boosting_identity(l2_regularization, weighted, regression_data):
    X, y, X_query = regression_data
    sample_weight = np.linspace(0.5, 2.0, X.shape[0]) if weighted else None
    model = HistGradientBoostingRegressor(
        max_iter=40, l2_regularization=l2_regularization, early_stopping=False
    ).fit(X, y, sample_weight=sample_weight)
    result = smoother_weights(model, X, X_query, sample_weight=sample_weight)
    np.testing.assert_allclose(
        _prediction(result, y), model.predict(X_query), rtol=1e-8, atol=1e-8
    )


def test_hist_gradient_boosting_early_stopping_holdout(regression_data):
    X, y, X_query = regression_data
    model = HistGradientBoostingRegressor(
        max_iter=200, early_stopping=True, validation_fraction=0.25, random_state=4
    ).fit(X, y)
    result = smoother_weights(model, X, X_query)
    np.testing.assert_allclose(
        _prediction(result, y), model.predict(X_query), rtol=1e-8, atol=1e-8
    )
    held_out_columns = np.abs(result.weights).sum(axis=0) == 0
    assert held_out_columns.sum() == pytest.approx(0.25 * X.shape[0], abs=1)


def test_hist_gradient_boosting_with_external_validation_set(regression_data):
    X, y, X_query = regression_data
    model = HistGradientBoostingRegressor(max_iter=30, early_stopping=True)
    model.fit(X, y, X_val=X_query, y_val=np.zeros(X_query.shape[0]))
    result = smoother_weights(model, X, X_query)
    np.testing.assert_allclose(
        _prediction(result, y), model.predict(X_query), rtol=1e-8, atol=1e-8
    )


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"reg_lambda": 0.0, "tree_method": "exact"},
        {"reg_lambda": 3.0, "base_score": 2.5, "learning_rate": 0.1},
        {"num_parallel_tree": 3, "colsample_bynode": 0.6},
    ],
)
def test_xgboost_identity_to_float32_precision(params, regression_data):
    X, y, X_query = regression_data
    sample_weight = np.linspace(0.5, 2.0, X.shape[0])
    model = xgboost.XGBRegressor(n_estimators=30, max_depth=3, **params)
    model.fit(X, y, sample_weight=sample_weight)
    result = smoother_weights(model, X, X_query, sample_weight=sample_weight)
    scale = np.abs(y).max()
    np.testing.assert_allclose(
        _prediction(result, y), model.predict(X_query), atol=2e-6 * scale
    )


def test_xgboost_random_forest_mode(regression_data):
    X, y, X_query = regression_data
    model = xgboost.XGBRFRegressor(
        n_estimators=10, max_depth=4, subsample=1.0, colsample_bynode=0.5
    ).fit(X, y)
    result = smoother_weights(model, X, X_query)
    np.testing.assert_allclose(
        _prediction(result, y), model.predict(X_query), atol=2e-6 * np.abs(y).max()
    )


@pytest.mark.parametrize(
    "model, message",
    [
        (GradientBoostingRegressor(loss="huber", n_estimators=3), "squared_error"),
        (GradientBoostingRegressor(subsample=0.5, n_estimators=3), "subsample"),
        (GradientBoostingRegressor(init=Ridge(), n_estimators=3), "init"),
        (GradientBoostingRegressor(n_estimators=30, n_iter_no_change=2), "int"),
        (HistGradientBoostingRegressor(loss="poisson", max_iter=3), "squared_error"),
        (
            HistGradientBoostingRegressor(max_iter=3, monotonic_cst=[1, 0, 0, 0]),
            "monotonic",
        ),
        (xgboost.XGBRegressor(n_estimators=3, reg_alpha=1.0), "alpha"),
        (xgboost.XGBRegressor(n_estimators=3, subsample=0.5), "subsample"),
        (xgboost.XGBRegressor(n_estimators=3, max_delta_step=1.0), "max_delta_step"),
        (
            xgboost.XGBRegressor(n_estimators=3, objective="reg:absoluteerror"),
            "squarederror",
        ),
    ],
)
def test_non_linear_boosting_is_refused(model, message, regression_data):
    X, y, _ = regression_data
    model.fit(X, y - y.min() + 0.1)
    with pytest.raises(ValueError, match=message):
        smoother_weights(model, X)


@pytest.mark.parametrize(
    "model",
    [
        GradientBoostingClassifier(n_estimators=3),
        xgboost.XGBClassifier(n_estimators=3),
        Ridge(),
    ],
)
def test_unsupported_models_name_what_is_supported(model, regression_data):
    X, y, _ = regression_data
    model.fit(X, (y > np.median(y)).astype(int))
    with pytest.raises(TypeError, match="RandomForestRegressor.*XGBRegressor"):
        smoother_weights(model, X)


def test_wrong_training_rows_are_detected(regression_data):
    X, y, _ = regression_data
    models = [
        GradientBoostingRegressor(n_estimators=3, max_depth=2),
        HistGradientBoostingRegressor(max_iter=3),
        xgboost.XGBRegressor(n_estimators=3, max_depth=2),
    ]
    for model in models:
        model.fit(X, y)
        with pytest.raises(ValueError, match="X_train"):
            smoother_weights(model, X[: X.shape[0] // 2])


def test_oob_is_refused_for_boosting(regression_data):
    X, y, _ = regression_data
    model = GradientBoostingRegressor(n_estimators=3).fit(X, y)
    with pytest.raises(ValueError, match="bootstrap"):
        smoother_weights(model, X, oob=True)


def test_verbose_reports_progress(regression_data, capsys):
    X, y, X_query = regression_data
    model = GradientBoostingRegressor(n_estimators=5).fit(X, y)
    smoother_weights(model, X, X_query, verbose=1)
    assert (
        f"{X_query.shape[0]}/{X_query.shape[0]} query rows" in capsys.readouterr().out
    )


def test_dataframe_inputs_with_categorical_features():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "size": rng.uniform(size=200),
            "kind": pd.Categorical(rng.choice(["a", "b", "c"], size=200)),
        }
    )
    y = frame["size"] * 2 + (frame["kind"] == "b") + rng.normal(scale=0.1, size=200)
    model = HistGradientBoostingRegressor(
        max_iter=20, categorical_features="from_dtype", early_stopping=False
    ).fit(frame, y)
    result = smoother_weights(model, frame, frame.iloc[:15])
    np.testing.assert_allclose(
        _prediction(result, y.to_numpy()), model.predict(frame.iloc[:15]), atol=1e-8
    )
