"""The ``naive_bayes="moa"`` experts predict with MOA's naive-Bayes rules."""

import math
import pickle

import numpy as np
import pytest
from river import tree

from skensemble.stream import DriftMoEClassifier
from skensemble.stream._moa_tree import MOAHoeffdingTreeClassifier

# class 0: a = 1, 2, 3 (mean 2, variance 1), d = 0, 1, 1
# class 1: a = 2, 2 (zero variance), d = 2, 2
STREAM = [
    ({"a": 1.0, "d": 0}, 0),
    ({"a": 2.0, "d": 2}, 1),
    ({"a": 2.0, "d": 1}, 0),
    ({"a": 2.0, "d": 2}, 1),
    ({"a": 3.0, "d": 1}, 0),
]


def fitted(kind, leaf_prediction="nb"):
    model = kind(
        grace_period=1000, leaf_prediction=leaf_prediction, nominal_attributes=["d"]
    )
    for x, y in STREAM:
        model.learn_one(x, y)
    return model


def normal_pdf(value, mean, variance):
    return math.exp(-((value - mean) ** 2) / (2 * variance)) / math.sqrt(
        2 * math.pi * variance
    )


def test_votes_are_moa_products_with_laplace_nominal_counts():
    proba = fitted(MOAHoeffdingTreeClassifier).predict_proba_one({"a": 2.0, "d": 1})
    # prior x Gaussian density x (count + 1) / (class total + value slots)
    vote_0 = 3 / 5 * normal_pdf(2.0, 2.0, 1.0) * (2 + 1) / (3 + 2)
    vote_1 = 2 / 5 * 1.0 * (0 + 1) / (2 + 3)  # zero variance, at its mean: 1
    assert proba[0] == pytest.approx(vote_0 / (vote_0 + vote_1), rel=1e-12)
    assert proba[1] == pytest.approx(vote_1 / (vote_0 + vote_1), rel=1e-12)


def test_zero_variance_away_from_the_mean_rules_a_class_out():
    x = {"a": 2.5, "d": 2}
    moa = fitted(MOAHoeffdingTreeClassifier).predict_proba_one(x)
    assert moa == {0: 1.0, 1: 0.0}
    # river skips the zero-variance feature, so class 1 keeps its nominal evidence
    river = fitted(tree.HoeffdingTreeClassifier).predict_proba_one(x)
    assert river[1] > 0.5


def test_all_zero_votes_predict_the_lowest_class():
    # a = 1e6 is far outside both classes: class 1 has zero variance (density 0)
    # and class 0's density underflows to 0 in floating point
    model = fitted(MOAHoeffdingTreeClassifier)
    proba = model.predict_proba_one({"a": 1e6, "d": 1})
    assert proba == {0: 0.0, 1: 0.0}
    assert model.predict_one({"a": 1e6, "d": 1}) == 0


def test_adaptive_leaf_does_not_count_an_empty_leaf_as_a_correct_majority():
    moa = MOAHoeffdingTreeClassifier(grace_period=1000)
    river = tree.HoeffdingTreeClassifier(grace_period=1000)
    for model in (moa, river):
        model.learn_one({"a": 1.0}, 1)
    assert moa._root._mc_correct_weight == 0.0
    assert river._root._mc_correct_weight == 1.0


def test_driftmoe_builds_moa_experts_and_pickles_mid_stream():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 3))
    y = (X[:, 0] + 0.3 * rng.normal(size=600) > 0).astype(int)
    model = DriftMoEClassifier(
        n_experts=4, naive_bayes="moa", random_state=0, device="cpu"
    )
    model.partial_fit(X[:300], y[:300], classes=[0, 1])
    assert all(type(e) is MOAHoeffdingTreeClassifier for e in model.experts_)
    assert model._fast_path is None
    copy = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(
        model.partial_fit_predict(X[300:], y[300:]),
        copy.partial_fit_predict(X[300:], y[300:]),
    )
    river = DriftMoEClassifier(n_experts=4, random_state=0, device="cpu").fit(X, y)
    assert not np.array_equal(model.predict_proba(X[:50]), river.predict_proba(X[:50]))


def test_naive_bayes_option_needs_the_default_experts():
    model = DriftMoEClassifier(
        naive_bayes="moa", expert=tree.HoeffdingTreeClassifier(), device="cpu"
    )
    with pytest.raises(ValueError, match="default experts only"):
        model.fit(np.zeros((4, 2)), [0, 1, 0, 1])
