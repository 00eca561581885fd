"""EnsLossClassifier: seeding, inputs, multi-class, backbones, pickling, real data."""

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from skensemble.ensloss import EnsLossClassifier

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
SMALL = dict(hidden_layer_sizes=(16,), learning_rate=1e-2, max_iter=5, device="cpu")


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), np.array(
        ["setosa", "versicolor", "virginica"]
    )[y]


@pytest.mark.parametrize("loss", ["ensloss", "hinge"])
def test_same_seed_same_model_other_seed_other_model(cancer, loss):
    X, y = cancer
    a = EnsLossClassifier(loss=loss, random_state=0, **SMALL).fit(X, y)
    b = EnsLossClassifier(loss=loss, random_state=0, **SMALL).fit(X, y)
    c = EnsLossClassifier(loss=loss, random_state=1, **SMALL).fit(X, y)
    assert np.array_equal(a.decision_function(X), b.decision_function(X))
    assert not np.array_equal(a.decision_function(X), c.decision_function(X))
    assert a.loss_curve_ == b.loss_curve_


def test_ensloss_trains_differently_from_every_fixed_loss(cancer):
    X, y = cancer
    margins = {}
    for loss in ["ensloss", "logistic", "hinge", "exponential"]:
        model = EnsLossClassifier(loss=loss, random_state=0, **SMALL).fit(X, y)
        margins[loss] = model.decision_function(X)
    for loss in ["logistic", "hinge", "exponential"]:
        assert not np.allclose(margins["ensloss"], margins[loss])


def test_fitting_does_not_touch_the_global_torch_stream(cancer):
    X, y = cancer
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    EnsLossClassifier(random_state=0, **SMALL).fit(X, y)
    assert torch.equal(torch.rand(3), expected)


def test_binary_outputs_are_consistent(cancer):
    X, y = cancer
    model = EnsLossClassifier(random_state=0, **SMALL).fit(X, y)
    decision = model.decision_function(X)
    proba = model.predict_proba(X)
    margins = model.predict_margins(X)
    assert decision.shape == (len(X),) and margins.shape == (len(X), 1, 1)
    np.testing.assert_allclose(decision, margins[:, 0, 0], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(proba[:, 1], 1 / (1 + np.exp(-decision)))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.array_equal(model.predict(X), model.classes_[(decision > 0).astype(int)])
    assert model.score(X, y) > 0.9


def test_tabm_backbone_gives_each_member_its_own_derivative(cancer):
    X, y = cancer
    params = {**SMALL, "hidden_layer_sizes": (16, 16), "learning_rate": 5e-2}
    model = EnsLossClassifier(backbone="tabm", k=4, random_state=0, **params)
    model.fit(X, y)
    margins = model.predict_margins(X)
    assert margins.shape == (len(X), 4, 1)
    assert not np.allclose(margins[:, 0], margins[:, 1])
    mean_sigmoid = (1 / (1 + np.exp(-margins[:, :, 0]))).mean(axis=1)
    np.testing.assert_allclose(model.predict_proba(X)[:, 1], mean_sigmoid, rtol=1e-9)
    assert model.score(X, y) > 0.85


@pytest.mark.parametrize("multi_class", ["ovr", "ovo"])
def test_multiclass_strategies(iris, multi_class):
    X, y = iris
    model = EnsLossClassifier(
        multi_class=multi_class, random_state=0, **{**SMALL, "max_iter": 15}
    ).fit(X, y)
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(model.predict(X)) <= set(model.classes_)
    assert np.array_equal(model.predict(X), model.classes_[proba.argmax(axis=1)])
    assert model.score(X, y) > 0.8
    if multi_class == "ovo":
        assert [pair for pair in model.pairs_] == [(0, 1), (0, 2), (1, 2)]
        assert len(model.estimators_) == 3 and not hasattr(model, "net_")
    else:
        assert model.predict_margins(X).shape == (len(X), 1, 3)


def test_sample_weight_zero_rows_are_ignored(cancer):
    # Every row appears twice, once with the wrong label: only the weights tell.
    X, y = cancer
    X_twice, y_twice = np.vstack([X, X]), np.concatenate([y, 1 - y])
    weight = np.r_[np.ones(len(X)), np.zeros(len(X))]
    weighted = EnsLossClassifier(random_state=0, **SMALL)
    weighted.fit(X_twice, y_twice, sample_weight=weight)
    plain = EnsLossClassifier(random_state=0, **SMALL).fit(X_twice, y_twice)
    assert weighted.score(X, y) > 0.9
    assert plain.score(X, y) < 0.75


def test_inputs_are_not_modified(cancer):
    X, y = cancer
    X_copy, y_copy = X.copy(), y.copy()
    EnsLossClassifier(random_state=0, **SMALL).fit(X, y).predict(X)
    assert np.array_equal(X, X_copy) and np.array_equal(y, y_copy)


def test_pickle_round_trip_keeps_predictions_and_training_stream(cancer):
    X, y = cancer
    model = EnsLossClassifier(random_state=0, warm_start=True, **SMALL).fit(X, y)
    clone = pickle.loads(pickle.dumps(model))
    assert np.array_equal(model.predict_proba(X), clone.predict_proba(X))
    model.fit(X, y)
    clone.fit(X, y)
    assert np.array_equal(model.decision_function(X), clone.decision_function(X))


def test_warm_start_continues_training(cancer):
    X, y = cancer
    model = EnsLossClassifier(random_state=0, warm_start=True, **SMALL).fit(X, y)
    first = model.decision_function(X)
    model.fit(X, y)
    assert model.n_iter_ == 2 * SMALL["max_iter"]
    assert not np.array_equal(first, model.decision_function(X))
    with pytest.raises(ValueError, match="classes of the first fit"):
        model.fit(X, np.where(y == 1, 2, 0))
    model.set_params(random_state=1, verbose=0).fit(X, y)  # free to change
    assert model.n_iter_ == 3 * SMALL["max_iter"]
    model.set_params(hidden_layer_sizes=(4,), loss="logistic")
    with pytest.raises(ValueError, match="set hidden_layer_sizes, loss back"):
        model.fit(X, y)


def test_warm_start_restarts_the_cosine_schedule_with_new_parameters(cancer):
    X, y = cancer
    model = EnsLossClassifier(random_state=0, warm_start=True, **SMALL).fit(X, y)
    model.fit(X, y)  # the same schedule again, not its continuation back up from 0
    rates = model.net_.history[:, "event_lr"]
    assert rates[SMALL["max_iter"] :] == rates[: SMALL["max_iter"]]
    model.set_params(learning_rate=0.5, max_iter=3, momentum=0.5).fit(X, y)
    expected = [0.5 * (1 + np.cos(np.pi * t / 3)) / 2 for t in range(3)]
    np.testing.assert_allclose(model.net_.history[-3:, "event_lr"], expected)
    assert model.n_iter_ == 2 * SMALL["max_iter"] + 3
    assert model.net_.optimizer_.param_groups[0]["momentum"] == 0.5


def test_warm_start_continues_every_one_vs_one_network(iris):
    X, y = iris
    params = dict(SMALL, max_iter=2)
    model = EnsLossClassifier(
        multi_class="ovo", warm_start=True, random_state=0, **params
    ).fit(X, y)
    binaries = list(model.estimators_)
    modules = [binary.net_.module_ for binary in binaries]
    model.set_params(max_iter=3).fit(X, y)
    assert model.estimators_ == binaries
    assert [binary.net_.module_ for binary in model.estimators_] == modules
    assert [binary.n_iter_ for binary in model.estimators_] == [5, 5, 5]
    model.set_params(k=2)
    with pytest.raises(ValueError, match="which used k="):
        model.fit(X, y)


def test_early_stopping_and_lambda_schedule(cancer):
    X, y = cancer
    model = EnsLossClassifier(
        random_state=0,
        early_stopping=True,
        n_iter_no_change=2,
        lambda_redraw_period=2,
        **{**SMALL, "max_iter": 30},
    ).fit(X, y)
    assert len(model.validation_scores_) == model.n_iter_ <= 30
    lambdas = list(model.net_.history[:, "boxcox_lambda"])
    assert all(-1.0 <= lam < 1.0 for lam in lambdas)
    assert lambdas[0] == lambdas[1] and len(set(lambdas)) == -(-len(lambdas) // 2)


def test_adamw_and_constant_schedule(cancer):
    X, y = cancer
    model = EnsLossClassifier(
        optimizer="adamw", lr_schedule="constant", random_state=0, **SMALL
    ).fit(X, y)
    assert isinstance(model.net_.optimizer_, torch.optim.AdamW)
    assert model.net_.optimizer_.param_groups[0]["lr"] == SMALL["learning_rate"]
    assert model.score(X, y) > 0.9


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"loss": "squared"}, "loss"),
        ({"backbone": "resnet"}, "backbone"),
        ({"multi_class": "crammer"}, "multi_class"),
        ({"max_iter": 0}, "max_iter"),
        ({"learning_rate": -1.0}, "learning_rate"),
    ],
)
def test_bad_parameters_raise_in_fit(cancer, params, message):
    X, y = cancer
    model = EnsLossClassifier(**params)
    with pytest.raises(InvalidParameterError, match=message):
        model.fit(X, y)


def test_bad_inputs_raise_clear_errors(cancer):
    X, y = cancer
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        EnsLossClassifier(hidden_layer_sizes=(0,)).fit(X, y)
    for widths in [(8.5,), ("8",), (True,)]:  # int() would have taken them silently
        with pytest.raises(ValueError, match="must hold integer widths"):
            EnsLossClassifier(hidden_layer_sizes=widths).fit(X, y)
    with pytest.raises(ValueError, match="equal hidden_layer_sizes"):
        EnsLossClassifier(backbone="tabm", hidden_layer_sizes=(8, 16)).fit(X, y)
    with pytest.raises(ValueError, match="device"):
        EnsLossClassifier(device="gpu").fit(X, y)
    with pytest.raises(ValueError, match="class"):
        EnsLossClassifier(**SMALL).fit(X, np.zeros(len(X)))
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        EnsLossClassifier(**SMALL).fit(X_nan, y)
    with pytest.raises(ValueError, match="Unknown label type"):
        EnsLossClassifier(**SMALL).fit(X, X[:, 0])
    negative = np.ones(len(y))
    negative[5] = -1.0
    with pytest.raises(ValueError, match="sample_weight must be non-negative"):
        EnsLossClassifier(**SMALL).fit(X, y, sample_weight=negative)


def test_real_data_diabetes_ensloss_matches_fixed_losses():
    path = SHARED_DATA / "diabetes_pima.csv"
    if not path.exists():
        pytest.skip(f"{path} is absent (benchmark data lives beside the checkout)")
    frame = pd.read_csv(path)
    y = frame.pop("target").to_numpy()
    X_train, X_test, y_train, y_test = train_test_split(
        frame.to_numpy(), y, test_size=0.3, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    scores = {}
    for loss in ["ensloss", "logistic"]:
        model = EnsLossClassifier(
            loss=loss,
            hidden_layer_sizes=(64, 64),
            learning_rate=1e-2,
            max_iter=20,
            device="cpu",
            random_state=0,
        )
        scores[loss] = model.fit(X_train, y_train).score(X_test, y_test)
    majority = max(y_test.mean(), 1 - y_test.mean())
    assert scores["ensloss"] > majority + 0.05
    assert scores["ensloss"] > scores["logistic"] - 0.05
