"""The fast Hoeffding-tree path gives river's own numbers, bit for bit."""

import itertools
import pickle

import numpy as np
import pytest
from river import tree
from river.datasets import synth
from sklearn.datasets import make_classification

from skensemble.stream import DriftMoEClassifier
from skensemble.stream._fast_tree import HoeffdingFastPath

# Every test runs with the leaf statistics as lists and as arrays.
pytestmark = pytest.mark.usefixtures("leaf_storage")


def gaussian_stream(n_samples=2500, n_classes=4, seed=0):
    """Numeric features whose concept flips halfway, so trees split and regrow."""
    X, y = make_classification(
        n_samples=n_samples,
        n_features=8,
        n_informative=5,
        n_classes=n_classes,
        random_state=seed,
    )
    y[n_samples // 2 :] = (y[n_samples // 2 :] + 1) % n_classes
    return X, y


def led_stream(n_samples=2500, seed=1):
    """river's LED stream: 24 binary features, 10 classes, 10 % noise."""
    stream = synth.LED(seed=seed, noise_percentage=0.1, irrelevant_features=True)
    rows, labels = [], []
    for x, label in itertools.islice(stream, n_samples):
        rows.append([float(x[key]) for key in sorted(x)])
        labels.append(label)
    return np.asarray(rows), np.asarray(labels)


def run_both(template, X, y, nominal_columns=()):
    """Train one tree through river and one through the fast path, side by side.

    Returns the largest absolute difference between the two trees' predicted
    probabilities over the stream (before each instance is learnt) and the two
    trees.
    """
    keys = list(range(X.shape[1]))
    fast = HoeffdingFastPath(keys)
    assert HoeffdingFastPath.supports(template)
    plain, quick = template.clone(), template.clone()
    n_compared = 0
    for row, label in zip(X, y.tolist()):
        x = dict(zip(keys, row.tolist()))
        for column in nominal_columns:
            x[column] = int(x[column])
        expected = plain.predict_proba_one(x)
        got = fast.predict_proba_one(quick, x, row)
        assert got == expected
        n_compared += bool(expected)
        plain.learn_one(x, label)
        fast.learn_one(quick, x, label, row)
    assert n_compared == len(y) - 1
    return plain, quick


@pytest.mark.parametrize("leaf_prediction", ["nba", "nb", "mc"])
def test_gaussian_leaves_predict_and_learn_exactly_as_river(leaf_prediction):
    X, y = gaussian_stream()
    template = tree.HoeffdingTreeClassifier(
        grace_period=30, delta=1e-2, tau=0.1, leaf_prediction=leaf_prediction
    )
    plain, quick = run_both(template, X, y)
    assert plain.n_nodes > 5  # the trees did split, so many leaves were cached
    assert plain.summary == quick.summary
    for leaf_plain, leaf_quick in zip(
        plain._root.iter_leaves(), quick._root.iter_leaves()
    ):
        assert leaf_plain.stats == leaf_quick.stats
        if leaf_prediction == "nba":
            assert leaf_plain._nb_correct_weight == leaf_quick._nb_correct_weight
            assert leaf_plain._mc_correct_weight == leaf_quick._mc_correct_weight


def test_many_binary_features_and_ten_classes_match_river():
    X, y = led_stream()
    template = tree.HoeffdingTreeClassifier(grace_period=50, delta=1e-2, tau=0.3)
    plain, quick = run_both(template, X, y)
    assert plain.n_nodes > 1
    assert plain.summary == quick.summary


def test_nominal_attributes_match_river():
    X, y = gaussian_stream(seed=3)
    X[:, 0] = np.digitize(X[:, 0], [-1.0, 0.0, 1.0])  # a 4-valued nominal column
    X[:, 5] = np.digitize(X[:, 5], [0.0])
    template = tree.HoeffdingTreeClassifier(
        grace_period=30, delta=1e-2, tau=0.1, nominal_attributes=[0, 5]
    )
    plain, quick = run_both(template, X, y, nominal_columns=(0, 5))
    assert plain.n_nodes > 5
    assert plain.summary == quick.summary


def test_only_river_hoeffding_trees_with_gaussian_splitters_take_the_fast_path():
    assert HoeffdingFastPath.supports(tree.HoeffdingTreeClassifier())
    assert not HoeffdingFastPath.supports(tree.HoeffdingAdaptiveTreeClassifier())
    assert not HoeffdingFastPath.supports(
        tree.HoeffdingTreeClassifier(splitter=tree.splitter.HistogramSplitter())
    )
    X, y = make_classification(n_samples=300, random_state=0)
    adaptive = DriftMoEClassifier(
        n_experts=3, expert=tree.HoeffdingAdaptiveTreeClassifier(seed=0), random_state=0
    ).fit(X, y)
    assert adaptive._fast_path is None
    assert DriftMoEClassifier(n_experts=3, random_state=0).fit(X, y)._fast_path


def splitting_tree(**params):
    """A Hoeffding tree that splits within a few hundred instances."""
    return tree.HoeffdingTreeClassifier(
        **{"grace_period": 30, "delta": 1e-2, "tau": 0.1, **params}
    )


def prequential_pair(X, y, **params):
    outputs = []
    for fast in (True, False):
        model = DriftMoEClassifier(
            **{"n_experts": 4, "top_k": 2, "random_state": 0, "device": "cpu", **params}
        )
        model._exact_fast_path = fast
        predictions = model.partial_fit_predict(X, y, classes=np.unique(y))
        outputs.append((model, predictions, model.predict_proba(X[-300:])))
    (fast_model, *fast_out), (plain_model, *plain_out) = outputs
    assert fast_model._fast_path is not None and plain_model._fast_path is None
    return fast_out, plain_out, fast_model


@pytest.mark.parametrize(
    "params",
    [
        {"router_dropout": 0.0, "expert": splitting_tree()},
        {
            "mixing": "soft",
            "standardize": True,
            "expert": splitting_tree(leaf_prediction="nb"),
        },
        {"mode": "task", "task_prediction": "product", "expert": splitting_tree()},
        {"expert": splitting_tree(nominal_attributes=[0])},
    ],
    ids=["paper", "soft-nb", "task", "nominal"],
)
def test_whole_model_is_identical_with_the_fast_path_on_or_off(params):
    X, y = gaussian_stream(n_samples=2000, seed=5)
    X[:, 0] = np.digitize(X[:, 0], [-1.0, 0.0, 1.0])
    (fast_pred, fast_proba), (plain_pred, plain_proba), model = prequential_pair(
        X, y, **params
    )
    np.testing.assert_array_equal(fast_pred, plain_pred)
    np.testing.assert_array_equal(fast_proba, plain_proba)
    assert max(expert.n_nodes for expert in model.experts_) > 1


def test_led_prequential_predictions_are_identical_with_the_fast_path():
    X, y = led_stream(n_samples=2000, seed=2)
    (fast_pred, fast_proba), (plain_pred, plain_proba), _ = prequential_pair(
        X, y, n_experts=6, router_batch_size=64, expert=splitting_tree(tau=0.3)
    )
    np.testing.assert_array_equal(fast_pred, plain_pred)
    np.testing.assert_array_equal(fast_proba, plain_proba)


def test_pickled_fast_model_drops_its_caches_and_continues_identically():
    X, y = gaussian_stream(n_samples=1200, seed=7)
    model = DriftMoEClassifier(n_experts=4, random_state=0, device="cpu")
    model.partial_fit(X[:600], y[:600], classes=np.unique(y))
    assert len(model._fast_path._caches) > 0
    copy = pickle.loads(pickle.dumps(model))
    assert len(copy._fast_path._caches) == 0
    np.testing.assert_array_equal(
        model.partial_fit_predict(X[600:], y[600:]),
        copy.partial_fit_predict(X[600:], y[600:]),
    )


def test_nominal_features_reach_the_default_experts():
    X, y = gaussian_stream(n_samples=600, seed=9)
    X[:, 2] = np.digitize(X[:, 2], [-1.0, 0.0, 1.0])
    model = DriftMoEClassifier(
        n_experts=3, top_k=2, nominal_features=[2], random_state=0
    ).fit(X, y)
    assert model._expert_template.nominal_attributes == [2]
    expert = max(model.experts_, key=lambda tree_: tree_._train_weight_seen_by_model)
    leaf = (
        next(iter(expert._root.iter_leaves())) if expert.n_nodes > 1 else expert._root
    )
    assert type(leaf.splitters[2]).__name__ == "NominalSplitterClassif"
    assert type(leaf.splitters[0]).__name__ == "GaussianSplitter"


def test_default_experts_keep_the_statistics_of_nearly_pure_leaves_as_moa_does():
    # One minority instance in 400: the leaf is 99.75 % pure at every split attempt.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = np.zeros(400, dtype=int)
    y[7] = 1
    model = DriftMoEClassifier(n_experts=1, top_k=1, random_state=0).fit(X, y)
    expert = model.experts_[0]
    assert expert.max_share_to_split == 1.0
    leaf = expert._root
    assert leaf.is_active()
    # Every instance is still in the observers; river's default (0.99) would have
    # emptied them at the last split attempt (weight 400).
    assert leaf.splitters[0]._att_dist_per_class[0].n_samples == 399
    river_default = tree.HoeffdingTreeClassifier(grace_period=50, merit_preprune=False)
    for row, label in zip(X.tolist(), y.tolist()):
        river_default.learn_one(dict(enumerate(row)), label)
    assert river_default._root.splitters == {}
