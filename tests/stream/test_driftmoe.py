"""DriftMoE does what the paper's step says, on both of its faces."""

import pickle
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from river import drift, ensemble, evaluate, metrics, preprocessing, tree
from sklearn.datasets import make_classification
from sklearn.utils._param_validation import InvalidParameterError

from skensemble.stream import DriftMoEClassifier, prequential_score

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def small_stream(n_samples=600, n_classes=3, seed=0):
    X, y = make_classification(
        n_samples=n_samples,
        n_features=5,
        n_informative=3,
        n_classes=n_classes,
        random_state=seed,
    )
    return X, y


def as_dict(row):
    return dict(enumerate(row.tolist()))


def expected_mask(model, x, code):
    """The paper's multi-hot target, computed from the experts directly."""
    n_classes = len(model.classes_)
    probabilities = np.zeros((len(model.experts_), n_classes))
    for row, expert in zip(probabilities, model.experts_):
        proba = expert.predict_proba_one(x)
        if proba:
            row[:] = [proba.get(c, 0.0) for c in range(n_classes)]
    mask = (probabilities.argmax(axis=1) == code).astype(np.float32)
    if not mask.any():
        mask[np.argmax(probabilities[:, code])] = 1.0
    return mask


def test_step_trains_top_k_experts_and_buffers_the_correctness_mask():
    X, y = small_stream(n_samples=300)
    model = DriftMoEClassifier(
        n_experts=5, top_k=2, router_batch_size=1000, random_state=0, device="cpu"
    )
    model.partial_fit(X[:1], y[:1], classes=[0, 1, 2])
    for row, label in zip(X[1:], y[1:]):
        x = as_dict(row)
        mask = expected_mask(model, x, label)
        scores = model.router_.torch_scores(row[None].astype(np.float32))[0]
        top = set(np.argsort(-scores, kind="stable")[:2].tolist())
        counts_before = model.expert_learn_counts_.copy()
        model.learn_one(x, label)
        np.testing.assert_array_equal(model.router_.targets[-1], mask)
        learnt = set(
            np.flatnonzero(model.expert_learn_counts_ - counts_before).tolist()
        )
        assert learnt == top
    assert model.expert_learn_counts_.sum() == 2 * len(X)
    assert len(model.router_.targets) == len(X)
    assert model.n_router_steps_ == 0


def test_first_instance_falls_back_to_the_expert_most_confident_in_the_label():
    model = DriftMoEClassifier(n_experts=4, top_k=2, random_state=0, device="cpu")
    model.partial_fit(np.zeros((1, 3)), [1], classes=[0, 1])
    # Untrained experts vote zero for every class (as an untrained MOA tree):
    # all predict class 0, none is right, and the tie goes to the first expert.
    np.testing.assert_array_equal(model.router_.targets[0], [1, 0, 0, 0])
    assert model.n_mask_fallbacks_ == 1
    model.partial_fit(np.zeros((1, 3)), [0])
    assert model.n_mask_fallbacks_ == 1


def test_untrained_experts_never_win_the_mask_fallback():
    # The paper's experts are MOA trees, whose untrained votes are all zero, so
    # the fallback goes to a trained expert with some probability on the true
    # class; a uniform vector for untrained experts would always win it.
    model = DriftMoEClassifier(
        n_experts=4, top_k=1, router_batch_size=1000, random_state=0, device="cpu"
    )
    x = np.ones((1, 2))
    model.partial_fit(x, [0], classes=[0, 1])
    top = int(np.argmax(model.router_.scores(x[0].astype(np.float32))))
    model.partial_fit(np.repeat(x, 2, axis=0), [1, 0])
    trained = np.flatnonzero(model.expert_learn_counts_)
    assert trained.tolist() == [top]
    probabilities = model._test(as_dict(x[0]), x[0]).expert_probabilities
    untrained = [index for index in range(4) if index != top]
    np.testing.assert_array_equal(probabilities[untrained], 0.0)
    assert probabilities[top, 0] > probabilities[top, 1] > 0
    model.partial_fit(x, [1])
    expected = np.zeros(4, dtype=np.float32)
    expected[top] = 1.0
    np.testing.assert_array_equal(model.router_.targets[-1], expected)


def test_router_step_is_one_adam_step_on_the_buffered_bce_batch():
    X, y = small_stream(n_samples=40)
    model = DriftMoEClassifier(
        n_experts=3,
        top_k=1,
        router_batch_size=40,
        router_dropout=0.0,
        random_state=0,
        device="cpu",
    )
    model.partial_fit(X[:39], y[:39], classes=[0, 1, 2])
    assert model.n_router_steps_ == 0
    module = pickle.loads(pickle.dumps(model.router_.module))
    optimizer = torch.optim.Adam(module.parameters(), lr=model.router_lr)
    inputs = torch.tensor(np.stack(model.router_.inputs))
    x_last = as_dict(X[39])
    last_input = torch.tensor(X[39:40], dtype=torch.float32)
    last_mask = torch.tensor(expected_mask(model, x_last, y[39]))[None]
    targets = torch.cat([torch.tensor(np.stack(model.router_.targets)), last_mask])
    loss = torch.nn.functional.binary_cross_entropy_with_logits(
        module(torch.cat([inputs, last_input])), targets
    )
    loss.backward()
    optimizer.step()

    model.partial_fit(X[39:], y[39:])
    assert model.n_router_steps_ == 1
    assert model.router_.inputs == []
    for ours, reference in zip(model.router_.module.parameters(), module.parameters()):
        torch.testing.assert_close(ours, reference)
    np.testing.assert_allclose(
        model.router_.scores(X[0].astype(np.float32)),
        model.router_.torch_scores(X[:1].astype(np.float32))[0],
        rtol=1e-5,
        atol=1e-6,
    )


def test_task_mode_trains_every_binary_expert_on_the_one_hot_label():
    X, y = small_stream(n_samples=200)
    model = DriftMoEClassifier(mode="task", random_state=0, device="cpu")
    model.fit(X, y)
    assert len(model.experts_) == 3
    np.testing.assert_array_equal(model.expert_learn_counts_, [200, 200, 200])
    np.testing.assert_array_equal(
        np.stack(model.router_.targets),
        np.eye(3, dtype=np.float32)[y[-len(model.router_.targets) :]],
    )
    assert set(model.experts_[0].predict_proba_one(as_dict(X[0]))) <= {False, True}


def test_task_product_weights_router_votes_by_expert_probabilities():
    X, y = small_stream(n_samples=300)
    model = DriftMoEClassifier(
        mode="task", task_prediction="product", random_state=0, device="cpu"
    ).fit(X, y)
    x = as_dict(X[0])
    positive = np.array([e.predict_proba_one(x).get(True, 0.0) for e in model.experts_])
    votes = 1 / (
        1 + np.exp(-model.router_.scores(X[0].astype(np.float32)).astype(float))
    )
    expected = votes * positive / (votes * positive).sum()
    np.testing.assert_allclose(model.predict_proba(X[:1])[0], expected)


def test_soft_mixing_averages_top_k_experts_by_router_softmax():
    X, y = small_stream(n_samples=400)
    model = DriftMoEClassifier(
        n_experts=4, top_k=3, mixing="soft", random_state=0, device="cpu"
    ).fit(X, y)
    x = as_dict(X[0])
    scores = model.router_.scores(X[0].astype(np.float32)).astype(float)
    top = np.argsort(-scores, kind="stable")[:3]
    weights = np.exp(scores[top] - scores[top].max())
    weights /= weights.sum()
    experts = np.array(
        [
            [model.experts_[i].predict_proba_one(x).get(c, 0.0) for c in range(3)]
            for i in top
        ]
    )
    mixed = weights @ experts
    np.testing.assert_allclose(model.predict_proba(X[:1])[0], mixed / mixed.sum())


@pytest.mark.parametrize("mode", ["data", "task"])
def test_partial_fit_batches_equal_the_per_instance_river_path(mode):
    X, y = small_stream(n_samples=700)
    params = dict(
        mode=mode,
        n_experts=4,
        top_k=2,
        router_batch_size=64,
        standardize=True,
        random_state=3,
        device="cpu",
    )
    batched = DriftMoEClassifier(**params)
    for start in range(0, len(X), 37):
        batched.partial_fit(
            X[start : start + 37], y[start : start + 37], classes=[0, 1, 2]
        )
    per_instance = DriftMoEClassifier(**params).partial_fit(
        X[:1], y[:1], classes=[0, 1, 2]
    )
    for row, label in zip(X[1:], y[1:]):
        x = as_dict(row)
        per_instance.predict_one(x)
        per_instance.learn_one(x, label)
    assert batched.n_router_steps_ == per_instance.n_router_steps_ == 700 // 64
    np.testing.assert_array_equal(
        batched.expert_learn_counts_, per_instance.expert_learn_counts_
    )
    np.testing.assert_array_equal(
        batched.predict_proba(X), per_instance.predict_proba(X)
    )


def test_river_progressive_val_score_matches_prequential_score():
    X, y = small_stream(n_samples=500)
    params = dict(
        n_experts=4, top_k=2, router_batch_size=50, random_state=0, device="cpu"
    )
    ours = prequential_score(DriftMoEClassifier(**params), X, y)
    model = DriftMoEClassifier(**params).partial_fit(X[:1], y[:1], classes=[0, 1, 2])
    river_accuracy = evaluate.progressive_val_score(
        ((as_dict(row), label) for row, label in zip(X[1:], y[1:].tolist())),
        model,
        metrics.Accuracy(),
    )
    assert river_accuracy.get() == pytest.approx(np.mean(ours.y_pred[1:] == y[1:]))


def test_river_path_from_scratch_discovers_classes():
    X, y = small_stream(n_samples=300)
    model = DriftMoEClassifier(n_experts=3, top_k=1, random_state=0, device="cpu")
    assert model.predict_one(as_dict(X[0])) is None
    for row, label in zip(X, y.tolist()):
        model.learn_one(as_dict(row), label)
    assert sorted(model.classes_.tolist()) == [0, 1, 2]
    assert model.n_instances_seen_ == 300
    assert model.predict(X[:5]).shape == (5,)


def test_river_wrappers_can_clone_the_model(capsys):
    X, y = small_stream(n_samples=200)
    params = dict(n_experts=3, top_k=1, random_state=0, device="cpu")
    model = DriftMoEClassifier(**params)
    fresh = model.clone({"n_experts": 4})
    assert fresh is not model and fresh.n_experts == 4 and fresh.top_k == 1
    for row, label in zip(X[:100], y[:100].tolist()):
        model.learn_one(as_dict(row), label)
    assert not hasattr(model.clone(), "router_")
    learnt = model.clone(include_attributes=True)
    for row in X[100:]:
        assert learnt.predict_one(as_dict(row)) == model.predict_one(as_dict(row))
    pipeline = preprocessing.StandardScaler() | DriftMoEClassifier(**params)
    assert isinstance(pipeline.clone().steps["DriftMoEClassifier"], DriftMoEClassifier)
    bagging = ensemble.BaggingClassifier(DriftMoEClassifier(**params), n_models=2)
    accuracy = evaluate.progressive_val_score(
        ((as_dict(row), label) for row, label in zip(X, y.tolist())),
        bagging,
        metrics.Accuracy(),
    )
    assert 0.0 < accuracy.get() <= 1.0
    assert model._raw_memory_usage == len(pickle.dumps(model))
    voting = ensemble.VotingClassifier([model, tree.HoeffdingTreeClassifier()])
    assert voting._multiclass
    evaluate.progressive_val_score(  # river's memory report reads it
        ((as_dict(row), label) for row, label in zip(X, y.tolist())),
        DriftMoEClassifier(**params),
        metrics.Accuracy(),
        print_every=100,
        show_memory=True,
    )
    assert re.search(
        r"\[200\] Accuracy: .* \d+(\.\d+)? [KM]iB", capsys.readouterr().out
    )


def test_pickle_in_the_middle_of_a_stream_continues_identically():
    X, y = small_stream(n_samples=900)
    model = DriftMoEClassifier(
        n_experts=4,
        top_k=2,
        router_batch_size=100,
        standardize=True,
        drift_detector=drift.ADWIN(),
        random_state=0,
        device="cpu",
    )
    model.partial_fit(X[:450], y[:450], classes=[0, 1, 2])
    restored = pickle.loads(pickle.dumps(model))
    first = model.partial_fit_predict(X[450:], y[450:])
    second = restored.partial_fit_predict(X[450:], y[450:])
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(model.predict_proba(X), restored.predict_proba(X))


def test_adaptive_expert_template_is_cloned_with_distinct_seeds():
    X, y = small_stream(n_samples=200)
    template = tree.HoeffdingAdaptiveTreeClassifier(seed=1)
    model = DriftMoEClassifier(n_experts=3, top_k=3, expert=template, random_state=0)
    model.fit(X, y)
    seeds = [expert.seed for expert in model.experts_]
    assert len(set(seeds)) == 3
    assert template.seed == 1
    assert all(
        isinstance(e, tree.HoeffdingAdaptiveTreeClassifier) for e in model.experts_
    )


def test_drift_detector_resets_experts_after_a_concept_flip():
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(4000, 2))
    y = (X[:, 0] > 0.5).astype(int)
    y[2000:] = 1 - y[2000:]
    model = DriftMoEClassifier(
        n_experts=3, top_k=3, drift_detector=drift.ADWIN(), random_state=0, device="cpu"
    )
    result = prequential_score(model, X, y, window=500)
    assert model.n_expert_resets_ >= 3
    assert result.window_accuracy[-1] > 0.9


def test_online_standardisation_uses_the_statistics_of_earlier_instances():
    X, y = small_stream(n_samples=50)
    X = X * 100 + 7
    model = DriftMoEClassifier(n_experts=2, top_k=1, standardize=True, random_state=0)
    model.fit(X[:30], y[:30])
    standardizer = model._standardizer
    np.testing.assert_allclose(standardizer.mean, X[:30].mean(axis=0))
    np.testing.assert_allclose(
        standardizer.transform(X[30]), (X[30] - X[:30].mean(0)) / X[:30].std(0, ddof=1)
    )


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(top_k=5, n_experts=3), "top_k=5 must not exceed n_experts=3"),
        (dict(device="tpu"), "device must be"),
        (dict(router_hidden=(0,)), "router_hidden"),
        (dict(router_hidden=(16.5,)), "router_hidden must hold integer widths"),
        (
            dict(nominal_features=[0], expert=tree.HoeffdingTreeClassifier()),
            "nominal_features applies to the default experts only",
        ),
    ],
)
def test_invalid_parameters_raise_in_fit(params, match):
    X, y = small_stream(n_samples=20)
    with pytest.raises(ValueError, match=match):
        DriftMoEClassifier(**params).fit(X, y)


def test_invalid_option_names_are_rejected_by_parameter_validation():
    X, y = small_stream(n_samples=20)
    with pytest.raises(InvalidParameterError, match="mixing"):
        DriftMoEClassifier(mixing="weighted").fit(X, y)


def test_partial_fit_needs_classes_first_and_rejects_unseen_labels():
    X, y = small_stream(n_samples=60)
    model = DriftMoEClassifier(n_experts=2, top_k=1, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        model.partial_fit(X, y)
    model.partial_fit(X[y < 2], y[y < 2], classes=[0, 1])
    with pytest.raises(ValueError, match=r"labels \[2\] that are not in classes_"):
        model.partial_fit(X, y)


def test_a_single_class_is_rejected_unless_more_are_declared():
    X, y = small_stream(n_samples=60)
    first = y == y[0]
    with pytest.raises(ValueError, match="only one class is present"):
        DriftMoEClassifier(n_experts=2, top_k=1).fit(X[first], y[first])
    with pytest.raises(ValueError, match="only one class is present"):
        DriftMoEClassifier(n_experts=2, top_k=1).partial_fit(
            X[first], y[first], classes=[y[0]]
        )
    # A stream may open with one class as long as classes= declares the others.
    model = DriftMoEClassifier(n_experts=2, top_k=1, random_state=0)
    model.partial_fit(X[first], y[first], classes=np.unique(y))
    assert model.classes_.tolist() == np.unique(y).tolist()
    assert set(model.predict(X).tolist()) <= set(np.unique(y).tolist())


def test_nan_input_and_task_learn_one_with_unknown_class_raise():
    X, y = small_stream(n_samples=60)
    X_nan = X.copy()
    X_nan[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        DriftMoEClassifier().fit(X_nan, y)
    model = DriftMoEClassifier(mode="task", random_state=0)
    model.learn_one(as_dict(X[0]), 0)
    with pytest.raises(ValueError, match="declare every class first"):
        model.learn_one(as_dict(X[1]), 1)


def test_learn_one_refuses_missing_non_numeric_and_non_finite_features():
    X, y = small_stream(n_samples=40)
    model = DriftMoEClassifier(router_batch_size=4, random_state=0)
    with pytest.raises(ValueError, match=r"x\[1\] is NaN or infinite"):
        model.learn_one({0: 1.0, 1: float("nan")}, 0)
    assert not hasattr(model, "router_")  # a refused first instance leaves no state
    for row, label in zip(X[:20], y[:20]):
        model.learn_one(as_dict(row), label)
    weights = [p.detach().clone() for p in model.router_.module.parameters()]
    bad = as_dict(X[20])
    bad[2] = float("inf")
    with pytest.raises(ValueError, match=r"x\[2\] is NaN or infinite"):
        model.learn_one(bad, y[20])
    with pytest.raises(ValueError, match="lacks the feature 4"):
        model.predict_one({key: 0.0 for key in range(4)})
    with pytest.raises(ValueError, match="not a number"):
        model.learn_one({**as_dict(X[21]), 0: "red"}, y[21])
    for row, label in zip(X[22:], y[22:]):  # the router steps on, unpoisoned
        model.learn_one(as_dict(row), label)
    assert model.router_.n_steps > 5
    after = list(model.router_.module.parameters())
    assert all(torch.isfinite(p).all() for p in after)
    assert any(not torch.equal(a, b) for a, b in zip(after, weights))


def test_inputs_are_not_modified():
    X, y = small_stream(n_samples=100)
    X_copy, y_copy = X.copy(), y.copy()
    DriftMoEClassifier(standardize=True, random_state=0).fit(X, y).predict(X)
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(y, y_copy)


def test_accuracy_recovers_after_each_drift_of_the_sea_stream():
    path = DATA / "sea_abrupt_stream.csv.gz"
    if not path.exists():
        pytest.skip(f"shared stream data not found at {path}")
    pandas = pytest.importorskip("pandas")
    frame = pandas.read_csv(path)
    X = frame.drop(columns="target").to_numpy(float)
    y = frame["target"].to_numpy()
    result = prequential_score(DriftMoEClassifier(random_state=0), X, y, window=500)
    curve = result.window_accuracy
    for drift_window in (25, 50, 75):  # drifts every 12,500 instances
        before = curve[drift_window - 5 : drift_window].mean()
        just_after = curve[drift_window : drift_window + 2].mean()
        recovered = curve[drift_window + 6 : drift_window + 12].mean()
        assert recovered >= before - 0.03
        assert recovered >= just_after
    assert result.accuracy > 0.84
