"""Instance weights in DriftMoE: exact identities for 1 and 0, and where w goes."""

import numpy as np
import pytest
import torch
from river import drift, naive_bayes

from skensemble.stream import DriftMoEClassifier
from skensemble.stream._router import OnlineStandardizer, Router

from .test_fast_learn import differences, drift_moe

SETTINGS = [
    {},
    {"standardize": True, "mixing": "soft", "drift_detector": drift.ADWIN()},
    {"mode": "task", "task_prediction": "product"},
]


def stream(n=900, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = np.digitize(X[:, 0] + 0.5 * X[:, 1], [-0.6, 0.6])
    y[n // 2 :] = 2 - y[n // 2 :]  # an abrupt drift halfway
    return X, y


def model(**params):
    defaults = {"n_experts": 4, "top_k": 2, "router_hidden": (16,)}
    defaults.update(router_batch_size=32, random_state=0, device="cpu")
    return DriftMoEClassifier(**{**defaults, **params})


@pytest.mark.parametrize("params", SETTINGS)
def test_weights_of_one_change_nothing(params):
    X, y = stream()
    plain = model(**params).fit(X, y)
    weighted = model(**params).fit(X, y, sample_weight=np.ones(len(y)))
    np.testing.assert_array_equal(weighted.predict_proba(X), plain.predict_proba(X))


@pytest.mark.parametrize("params", SETTINGS)
def test_zero_weight_rows_are_learnt_as_if_absent(params):
    X, y = stream()
    keep = np.random.default_rng(1).random(len(y)) > 0.3
    classes = np.unique(y)
    weighted, absent = model(**params), model(**params)
    for rows in np.array_split(np.arange(len(y)), 3):
        predicted = weighted.partial_fit_predict(
            X[rows], y[rows], classes=classes, sample_weight=keep[rows].astype(float)
        )
        expected = absent.partial_fit_predict(
            X[rows][keep[rows]], y[rows][keep[rows]], classes=classes
        )
        np.testing.assert_array_equal(predicted[keep[rows]], expected)
    assert weighted.n_instances_seen_ == keep.sum()
    np.testing.assert_array_equal(weighted.predict_proba(X), absent.predict_proba(X))


def test_river_face_weight_zero_learns_nothing():
    X, y = stream(300)
    weighted, absent = model(), model()
    for index, (row, label) in enumerate(zip(X.tolist(), y.tolist())):
        x = dict(enumerate(row))
        w = 0.0 if index % 3 == 1 else 1.0
        weighted.learn_one(x, label, w=w)
        if w:
            absent.learn_one(x, label)
    x = dict(enumerate(X[0].tolist()))
    assert weighted.predict_proba_one(x) == absent.predict_proba_one(x)
    assert weighted.n_router_steps_ == absent.n_router_steps_ > 0


@pytest.mark.parametrize(("mode", "learners"), [("data", 2), ("task", 3)])
def test_experts_see_the_weights(mode, learners):
    # In MoE-Data each instance trains its top_k = 2 experts, in MoE-Task every
    # one of the three binary experts: their seen weights add up to exactly that
    # multiple of the summed sample weights.
    X, y = stream(600)
    weights = np.random.default_rng(2).integers(0, 4, size=len(y)).astype(float)
    fitted = model(mode=mode).fit(X, y, sample_weight=weights)
    seen = sum(expert._train_weight_seen_by_model for expert in fitted.experts_)
    assert seen == learners * weights.sum()


def test_fast_path_learns_weights_as_river_does():
    X, y = stream(700)
    weights = np.random.default_rng(3).uniform(0.0, 3.0, size=len(y))
    quick, plain = drift_moe(True), drift_moe(False)
    classes = np.unique(y)
    predicted = quick.partial_fit_predict(X, y, classes, sample_weight=weights)
    expected = plain.partial_fit_predict(X, y, classes, sample_weight=weights)
    np.testing.assert_array_equal(predicted, expected)
    assert differences(plain.experts_, quick.experts_) == []


def test_router_weighted_loss_equals_the_loss_of_repeated_rows():
    rng = np.random.default_rng(4)
    inputs = rng.normal(size=(3, 5)).astype(np.float32)
    targets = (rng.random((3, 4)) > 0.5).astype(np.float32)

    def router(batch_size):
        return Router(5, 4, (8,), 0.0, 1e-2, batch_size, seed=0, device="cpu")

    weighted, repeated = router(3), router(6)
    for row, target, weight in zip(inputs, targets, [3.0, 1.0, 2.0]):
        weighted.record(row, target, weight)
        for _ in range(int(weight)):
            repeated.record(row, target)
    assert weighted.n_steps == repeated.n_steps == 1
    assert weighted.last_loss == pytest.approx(repeated.last_loss, rel=1e-6)
    for a, b in zip(weighted.module.parameters(), repeated.module.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_standardizer_counts_a_weight_as_repeats():
    rows = np.random.default_rng(5).normal(size=(4, 3))
    weighted, repeated = OnlineStandardizer(3), OnlineStandardizer(3)
    for row, weight in zip(rows, [2.0, 1.0, 3.0, 1.0]):
        weighted.update(row, weight)
        for _ in range(int(weight)):
            repeated.update(row)
    np.testing.assert_allclose(weighted.mean, repeated.mean)
    np.testing.assert_allclose(weighted.sum_squares, repeated.sum_squares)
    np.testing.assert_allclose(weighted.transform(rows[0]), repeated.transform(rows[0]))


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        (-np.ones(50), "non-negative"),
        (np.ones(49), "shape"),
        (np.full(50, np.nan), "NaN"),
        (np.zeros(50), "zero"),
    ],
)
def test_bad_sample_weight_is_refused(weights, match):
    X, y = stream(50)
    with pytest.raises(ValueError, match=match):
        model().fit(X, y, sample_weight=weights)
    with pytest.raises(ValueError, match=match):
        model().partial_fit(X, y, classes=[0, 1, 2], sample_weight=weights)


def test_weights_need_an_expert_that_takes_them():
    X, y = stream(50)
    expert = naive_bayes.GaussianNB()  # learn_one(x, y): no weight
    unweighted = model(expert=expert).fit(X, y, sample_weight=np.ones(50))
    with pytest.raises(ValueError, match="GaussianNB.learn_one takes no weight"):
        model(expert=expert).fit(X, y, sample_weight=np.full(50, 2.0))
    with pytest.raises(ValueError, match="takes no weight"):
        unweighted.learn_one(dict(enumerate(X[0].tolist())), y[0], w=0.5)


@pytest.mark.parametrize("w", [-1.0, np.nan, np.inf, "2", True])
def test_river_face_refuses_a_bad_weight(w):
    fresh = model()
    with pytest.raises(ValueError, match="w must be a finite non-negative"):
        fresh.learn_one({0: 1.0, 1: 2.0}, 0, w=w)
    assert not hasattr(fresh, "router_")


def test_river_face_and_partial_fit_agree_with_weights():
    X, y = stream(400)
    weights = np.random.default_rng(6).uniform(0.0, 2.0, size=len(y))
    batched = model(standardize=True).partial_fit(
        X, y, classes=np.unique(y), sample_weight=weights
    )
    single = model(standardize=True).partial_fit(
        X[:1], y[:1], np.unique(y), [weights[0]]
    )
    for row, label, w in zip(X[1:].tolist(), y[1:].tolist(), weights[1:].tolist()):
        single.learn_one(dict(enumerate(row)), label, w=w)
    np.testing.assert_array_equal(single.predict_proba(X), batched.predict_proba(X))
