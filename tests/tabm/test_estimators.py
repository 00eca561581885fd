"""Behaviour of TabMRegressor / TabMClassifier: contracts, identities, bad input."""

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import NotFittedError

from skensemble._skorch import BatchIterator, MemberSquaredError, TensorData
from skensemble.tabm import TabMClassifier, TabMRegressor

FAST = dict(k=4, d_block=16, n_blocks=2, max_iter=8, random_state=0)


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(n_samples=160, n_features=5, noise=5.0, random_state=0)
    return X, y


@pytest.fixture(scope="module")
def classification():
    X, y = make_classification(
        n_samples=160, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    return X, np.array(["cat", "dog", "eel"])[y]


def test_loss_is_the_mean_of_member_losses_not_the_loss_of_the_mean(regression):
    X, y = regression
    model = TabMRegressor(**FAST).fit(X, y)
    net = model.net_
    y_pred = torch.randn(10, 4, 1)
    y_true = torch.randn(10, 4, 1)
    loss = net.get_loss(y_pred, {"y": y_true})
    per_member = [((y_pred[:, j] - y_true[:, j]) ** 2).mean() for j in range(4)]
    assert torch.isclose(loss, torch.stack(per_member).mean())
    loss_of_mean = ((y_pred.mean(1) - y_true[:, 0]) ** 2).mean()
    assert not torch.isclose(loss, loss_of_mean)


def test_weighted_loss_weights_each_member_mean():
    net_loss = MemberSquaredError()
    y_pred, y_true = torch.randn(6, 3, 1), torch.randn(6, 3, 1)
    weight = torch.tensor([1.0, 0, 2, 0, 1, 1]).unsqueeze(1).expand(6, 3)
    per_sample = net_loss(y_pred, y_true)
    expected = ((per_sample * weight).sum(0) / weight.sum(0)).mean()
    from skensemble._skorch import EnsembleNet

    loss = EnsembleNet.get_loss(
        type("N", (), {"criterion_": net_loss})(), y_pred, {"y": y_true, "w": weight}
    )
    assert torch.isclose(loss, expected)


def test_every_member_sees_its_own_permutation_of_all_rows():
    data = TensorData({"x_num": torch.arange(10.0).unsqueeze(1)}, torch.arange(10.0))
    generator = torch.Generator().manual_seed(0)
    batches = list(
        BatchIterator(
            data, 4, k=3, shuffle=True, member_batches=True, generator=generator
        )
    )
    assert [b[0]["x_num"].shape for b in batches] == [(4, 3, 1), (4, 3, 1), (2, 3, 1)]
    seen = torch.cat([b[0]["x_num"][..., 0] for b in batches])  # (10, 3)
    for member in range(3):
        assert sorted(seen[:, member].tolist()) == list(range(10))
    assert not torch.equal(seen[:, 0], seen[:, 1])
    targets = torch.cat([b[1]["y"] for b in batches])
    assert torch.equal(targets, seen)  # targets follow each member's rows


def test_regressor_predict_is_the_mean_of_members(regression):
    X, y = regression
    model = TabMRegressor(**FAST).fit(X, y)
    members = model.predict_members(X)
    assert members.shape == (len(X), 4)
    np.testing.assert_allclose(model.predict(X), members.mean(axis=1))
    assert model.n_iter_ == len(model.loss_curve_) >= 1
    assert len(model.validation_scores_) == model.n_iter_
    assert 1 <= model.best_iteration_ <= model.n_iter_


def test_classifier_averages_member_probabilities(classification):
    X, y = classification
    model = TabMClassifier(**FAST).fit(X, y)
    members = model.predict_members(X)
    proba = model.predict_proba(X)
    assert members.shape == (len(X), 4, 3)
    np.testing.assert_allclose(proba, members.mean(axis=1))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(model.predict(X)) <= {"cat", "dog", "eel"}
    np.testing.assert_array_equal(model.classes_, ["cat", "dog", "eel"])


def test_multi_output_regression(regression):
    X, y = regression
    Y = np.column_stack([y, -2 * y + 100])
    model = TabMRegressor(**FAST).fit(X, Y)
    assert model.predict(X).shape == (len(X), 2)
    assert model.predict_members(X).shape == (len(X), 4, 2)


def test_quantile_regression_never_crosses_and_interpolates(regression):
    X, y = regression
    levels = [0.1, 0.5, 0.9]
    model = TabMRegressor(loss="quantile", quantiles=levels, **FAST).fit(X, y)
    members = model.predict_members(X)
    assert members.shape == (len(X), 4, 3)
    assert np.all(np.diff(members, axis=-1) >= 0)
    grid = model.predict(X, quantiles=levels)
    assert np.all(np.diff(grid, axis=1) >= 0)
    np.testing.assert_allclose(model.predict(X), grid[:, 1])
    middle = model.predict(X, quantiles=[0.3])[:, 0]
    np.testing.assert_allclose(middle, (grid[:, 0] + grid[:, 1]) / 2)
    with pytest.raises(ValueError, match="outside the fitted"):
        model.predict(X, quantiles=[0.95])
    np.testing.assert_array_equal(
        model.predict_interval(X, confidence=0.8), grid[:, [0, 2]]
    )
    assert not hasattr(TabMRegressor(**FAST).fit(X, y), "predict_interval")


@pytest.mark.parametrize(
    "params, message",
    [
        ({"loss": "quantile", "quantiles": [0.5, 0.2]}, "strictly increasing"),
        ({"loss": "quantile", "quantiles": [0.0, 0.5]}, "strictly between 0 and 1"),
        ({"quantiles": [0.5]}, "only used with loss='quantile'"),
    ],
)
def test_bad_quantiles_are_rejected_in_fit(regression, params, message):
    X, y = regression
    model = TabMRegressor(**params, **FAST)  # no error at construction
    with pytest.raises(ValueError, match=message):
        model.fit(X, y)


def test_categorical_columns_nan_and_unseen_categories():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "size": rng.normal(size=120),
            "colour": rng.choice(["red", "green", "blue"], size=120),
            "shape": pd.Categorical(rng.choice(["round", "square"], size=120)),
        }
    )
    frame.loc[::7, "size"] = np.nan
    frame.loc[::11, "colour"] = None
    y = (frame["colour"] == "red").astype(float) + frame["size"].fillna(0)
    model = TabMRegressor(**FAST).fit(frame, y)
    np.testing.assert_array_equal(model.categorical_mask_, [False, True, True])
    np.testing.assert_array_equal(model.feature_names_in_, ["size", "colour", "shape"])
    assert model.preprocessor_.cardinalities_ == [4, 2]  # blue, green, red, <missing>
    new = frame.head(3).copy()
    new["colour"] = ["purple", "red", None]
    assert np.all(np.isfinite(model.predict(new)))


@pytest.mark.parametrize("num_embeddings", ["piecewise", "periodic"])
def test_numeric_embeddings_with_only_categorical_columns(num_embeddings):
    # No numeric column leaves nothing to embed; this used to crash in fit.
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "colour": rng.choice(["red", "green", "blue"], size=80),
            "shape": pd.Categorical(rng.choice(["round", "square"], size=80)),
        }
    )
    y = (frame["colour"] == "red").astype(int)
    model = TabMClassifier(num_embeddings=num_embeddings, **FAST).fit(frame, y)
    assert model.net_.module_.num_module is None
    assert model.predict_proba(frame).shape == (80, 2)


@pytest.mark.parametrize(
    "column",
    [pd.date_range("2020-01-01", periods=40), pd.to_timedelta(np.arange(40), "D")],
)
def test_date_columns_get_a_clear_error(column):
    frame = pd.DataFrame({"size": np.arange(40.0), "when": column})
    with pytest.raises(ValueError, match=r"date or time-span columns \['when'\]"):
        TabMRegressor(**FAST).fit(frame, np.arange(40.0))


def test_explicit_categorical_features_by_index():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=80), rng.integers(0, 3, size=80)])
    y = X[:, 1] * 2.0 + X[:, 0]
    model = TabMRegressor(categorical_features=[1], **FAST).fit(X, y)
    assert model.preprocessor_.cardinalities_ == [3]


def test_pandas_missing_values_in_nullable_columns():
    # pandas' NA (nullable Int64, string dtype) is missing, like NaN and None.
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "count": pd.array(rng.integers(0, 9, size=60), dtype="Int64"),
            "colour": pd.array(rng.choice(["red", "blue"], size=60), dtype="string"),
        }
    )
    frame.loc[::5, "count"] = pd.NA
    frame.loc[::7, "colour"] = pd.NA
    y = frame["count"].fillna(0).to_numpy(dtype=float)
    model = TabMRegressor(**FAST).fit(frame, y)
    assert model.preprocessor_.cardinalities_ == [3]  # blue, red, <missing>
    assert list(model.preprocessor_.indicator_columns_) == [0]
    as_nan = frame.astype({"count": "float64", "colour": object})
    as_nan["colour"] = as_nan["colour"].where(frame["colour"].notna(), None)
    np.testing.assert_array_equal(
        model.predict(frame), TabMRegressor(**FAST).fit(as_nan, y).predict(as_nan)
    )


@pytest.mark.parametrize("as_frame", [True, False])
def test_string_column_left_out_of_categorical_features_is_named(as_frame):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"size": rng.normal(size=30), "colour": rng.choice(["red", "blue"], size=30)}
    )
    X = frame if as_frame else frame.to_numpy(dtype=object)
    column = "'colour'" if as_frame else "1"
    with pytest.raises(ValueError, match=f"Column {column} is not numeric"):
        TabMRegressor(categorical_features=[0], **FAST).fit(X, frame["size"])


def test_pickle_round_trip_gives_identical_predictions(classification):
    X, y = classification
    model = TabMClassifier(**FAST).fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))


def test_same_seed_same_model_different_seed_different_model(regression):
    X, y = regression
    first = TabMRegressor(**FAST).fit(X, y).predict(X)
    again = TabMRegressor(**FAST).fit(X, y).predict(X)
    other = TabMRegressor(**{**FAST, "random_state": 1}).fit(X, y).predict(X)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


def test_global_torch_rng_is_left_alone(regression):
    X, y = regression
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    TabMRegressor(**FAST).fit(X, y)
    assert torch.equal(torch.rand(3), expected)


def test_warm_start_continues_training(regression):
    X, y = regression
    model = TabMRegressor(warm_start=True, early_stopping=False, **FAST).fit(X, y)
    module = model.net_.module_
    assert model.n_iter_ == 8
    model.fit(X, y)
    assert model.net_.module_ is module
    assert model.n_iter_ == 16


@pytest.mark.parametrize(
    "change",
    [{"k": 8}, {"d_block": 32}, {"early_stopping": True}, {"loss": "quantile"}],
)
def test_warm_start_refuses_parameters_the_network_cannot_take(regression, change):
    # The continued network keeps its first fit's shape, criterion and history,
    # so a changed parameter would otherwise be silently ignored.
    X, y = regression
    model = TabMRegressor(warm_start=True, early_stopping=False, **FAST).fit(X, y)
    model.set_params(**change)
    with pytest.raises(ValueError, match=f"which used {next(iter(change))}="):
        model.fit(X, y)
    model.set_params(warm_start=False).fit(X, y)  # afresh: accepted
    assert model.n_iter_ <= model.max_iter


def test_warm_start_applies_the_training_loop_parameters(regression, capsys):
    X, y = regression
    model = TabMRegressor(warm_start=True, early_stopping=False, **FAST).fit(X, y)
    module = model.net_.module_
    model.set_params(
        max_iter=3,
        learning_rate=0.01,
        weight_decay=0.5,
        batch_size=16,
        gradient_clipping=1.0,
        verbose=1,
    ).fit(X, y)
    assert model.net_.module_ is module
    assert model.n_iter_ == FAST["max_iter"] + 3
    group = model.net_.optimizer_.param_groups[0]
    assert (group["lr"], group["weight_decay"]) == (0.01, 0.5)
    assert model.batch_size_ == model.net_.batch_size == 16
    assert "clip" in dict(model.net_.callbacks_)
    assert "3/3" in capsys.readouterr().err  # the progress bar of the new max_iter


def test_unit_sample_weights_match_no_weights(regression):
    X, y = regression
    plain = TabMRegressor(**FAST).fit(X, y).predict(X)
    weighted = TabMRegressor(**FAST).fit(X, y, sample_weight=np.ones(len(y))).predict(X)
    np.testing.assert_allclose(weighted, plain, rtol=1e-4, atol=1e-4)


def test_eval_set_replaces_the_internal_split(regression):
    X, y = regression
    model = TabMRegressor(**FAST).fit(X[:120], y[:120], eval_set=(X[120:], y[120:]))
    assert model.net_.history[0, "train_batch_count"] == -(-120 // model.batch_size_)
    with pytest.raises(ValueError, match=r"eval_set must be a pair \(X_val, y_val\)"):
        TabMRegressor(**FAST).fit(X[:120], y[:120], eval_set=X[120:])


def test_early_stopping_metric_options(regression):
    X, y = regression

    def neg_mae(y_true, y_pred):
        return -np.mean(np.abs(y_true - y_pred))

    for metric in ["loss", neg_mae]:
        model = TabMRegressor(early_stopping_metric=metric, **FAST).fit(X, y)
        assert len(model.validation_scores_) == model.n_iter_


def test_inputs_are_not_modified(regression):
    X, y = regression
    X_copy, y_copy = X.copy(), y.copy()
    TabMRegressor(**FAST).fit(X, y).predict(X)
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(y, y_copy)


@pytest.mark.parametrize("arch", ["tabm-mini", "tabm-packed"])
@pytest.mark.parametrize("embedding", ["piecewise", "periodic"])
def test_variants_train(regression, arch, embedding):
    X, y = regression
    model = TabMRegressor(arch=arch, num_embeddings=embedding, **FAST).fit(X, y)
    assert np.all(np.isfinite(model.predict(X)))


def test_verbose_shows_progress(regression, capsys):
    X, y = regression
    TabMRegressor(verbose=1, **FAST).fit(X, y)
    assert "TabMRegressor" in capsys.readouterr().err


def test_bad_input_errors(regression, classification):
    X, y = regression
    y_nan = y.copy()
    y_nan[3] = np.nan
    with pytest.raises(ValueError, match="y.*NaN|NaN.*y|Input y contains NaN"):
        TabMRegressor(**FAST).fit(X, y_nan)
    X_inf = X.copy()
    X_inf[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        TabMRegressor(**FAST).fit(X_inf, y)
    model = TabMRegressor(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        model.predict(X[:, :3])
    with pytest.raises(NotFittedError):
        TabMRegressor().predict(X)
    Xc, yc = classification
    with pytest.raises(ValueError, match="class"):
        TabMClassifier(**FAST).fit(Xc, np.zeros(len(Xc)))
    with pytest.raises(ValueError, match="device must be"):
        TabMRegressor(device="gpu", **{**FAST}).fit(X, y)
    for bad in [{"k": 0}, {"arch": "tabm-xl"}, {"dropout": 1.5}, {"batch_size": 0}]:
        with pytest.raises(ValueError):
            TabMRegressor(**{**FAST, **bad}).fit(X, y)
    negative = np.ones(len(y))
    negative[5] = -1.0
    with pytest.raises(ValueError, match="sample_weight must be non-negative"):
        TabMRegressor(**FAST).fit(X, y, sample_weight=negative)
    with pytest.raises(ValueError, match="sums to zero|at least one non-zero"):
        TabMClassifier(**FAST).fit(Xc, yc, sample_weight=np.zeros(len(yc)))


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only message")
def test_cuda_request_without_cuda_is_a_clear_error(regression):
    X, y = regression
    with pytest.raises(ValueError, match="CUDA is not available"):
        TabMRegressor(device="cuda", **FAST).fit(X, y)


def test_auto_device_is_resolved(regression):
    X, y = regression
    model = TabMRegressor(**FAST).fit(X, y)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert model.device_.type == expected


@pytest.mark.skipif(torch.cuda.is_available(), reason="simulates a CPU-only machine")
@pytest.mark.filterwarnings("ignore:Setting self.device = cpu")
@pytest.mark.filterwarnings("ignore:Requested to load data to CUDA")
def test_a_model_saved_as_cuda_loads_and_predicts_on_a_cpu_only_machine(regression):
    X, y = regression
    model = TabMRegressor(**FAST).fit(X, y)
    expected = model.predict(X)
    model.net_.device = "cuda"  # as if trained on a GPU
    model.device_ = torch.device("cuda")
    restored = pickle.loads(pickle.dumps(model))
    assert restored.device_.type == "cpu"
    np.testing.assert_allclose(restored.predict(X), expected)
