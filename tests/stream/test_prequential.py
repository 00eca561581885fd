"""Prequential evaluation, its display and the stream kappa statistics."""

import numpy as np
import pytest
from river import tree
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import cohen_kappa_score

from skensemble.metrics import kappa_m_score, kappa_t_score
from skensemble.stream import DriftMoEClassifier, PrequentialDisplay, prequential_score


def brute_force_kappa_m(y_true, y_pred):
    hits = []
    for t in range(len(y_true)):
        seen = list(y_true[:t])
        if not seen:
            hits.append(False)
            continue
        labels, counts = np.unique(seen, return_counts=True)
        hits.append(labels[np.argmax(counts)] == y_true[t])
    baseline = np.mean(hits)
    return (np.mean(y_true == y_pred) - baseline) / (1 - baseline)


def test_kappa_statistics_match_their_definitions():
    rng = np.random.RandomState(0)
    y_true = rng.choice(3, size=300, p=[0.6, 0.3, 0.1])
    y_pred = np.where(rng.uniform(size=300) < 0.7, y_true, rng.choice(3, size=300))
    assert kappa_m_score(y_true, y_pred) == pytest.approx(
        brute_force_kappa_m(y_true, y_pred)
    )
    no_change = np.mean(y_true[1:] == y_true[:-1]) * 299 / 300
    expected_t = (np.mean(y_true == y_pred) - no_change) / (1 - no_change)
    assert kappa_t_score(y_true, y_pred) == pytest.approx(expected_t)


def test_kappa_t_penalises_a_model_that_only_repeats_the_last_label():
    y_true = np.repeat([0, 1, 0, 1], 50)
    # The no-change baseline has no prediction for the first instance.
    repeat_last = np.concatenate([[1], y_true[:-1]])
    assert kappa_t_score(y_true, repeat_last) == 0.0
    assert kappa_m_score(y_true, y_true) == 1.0


def test_kappa_rejects_empty_and_mismatched_inputs():
    with pytest.raises(ValueError, match="empty"):
        kappa_m_score([], [])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        kappa_t_score([0, 1], [0])


def separable_stream(n_samples=3000):
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(n_samples, 2))
    return X, (X[:, 0] > X[:, 1]).astype(int)


def test_prequential_score_reports_every_metric_consistently():
    X, y = separable_stream()
    result = prequential_score(tree.HoeffdingTreeClassifier(), X, y, window=500)
    predicted = np.array([-1 if p is None else p for p in result.y_pred])
    assert result.y_pred[0] is None
    assert result.accuracy == pytest.approx(np.mean(predicted == y))
    assert result.kappa == pytest.approx(cohen_kappa_score(y, predicted))
    assert result.kappa_m == pytest.approx(kappa_m_score(y, predicted))
    assert result.kappa_t == pytest.approx(kappa_t_score(y, predicted))
    assert result.window_ends.tolist() == [500, 1000, 1500, 2000, 2500, 3000]
    assert result.window_accuracy.mean() == pytest.approx(result.accuracy)
    assert result.instances_per_second > 0


def test_prequential_score_runs_sklearn_partial_fit_in_batches():
    X, y = separable_stream(1000)
    model = SGDClassifier(random_state=0)
    result = prequential_score(model, X, y, batch_size=100, window=100)
    assert all(p is None for p in result.y_pred[:100])
    assert result.window_accuracy[0] == 0.0
    assert result.window_accuracy[-1] > 0.8


def test_prequential_score_of_driftmoe_uses_its_test_then_train_step():
    X, y = separable_stream(600)
    params = dict(n_experts=3, top_k=2, router_batch_size=64, random_state=0)
    result = prequential_score(DriftMoEClassifier(**params), X, y, window=200)
    expected = DriftMoEClassifier(**params).partial_fit_predict(X, y, classes=[0, 1])
    np.testing.assert_array_equal(result.y_pred.astype(int), expected)


def test_prequential_score_rejects_models_that_cannot_learn_online():
    X, y = separable_stream(10)
    with pytest.raises(TypeError, match="evaluated prequentially"):
        prequential_score(object(), X, y, window=5)
    with pytest.raises(ValueError, match="window"):
        prequential_score(tree.HoeffdingTreeClassifier(), X, y, window=0)


def test_prequential_display_draws_one_curve_per_model():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    X, y = separable_stream(1000)
    display = PrequentialDisplay.from_estimator(
        {"tree": tree.HoeffdingTreeClassifier(), "sgd": SGDClassifier(random_state=0)},
        X,
        y,
        window=250,
        drift_positions=[500],
    )
    assert set(display.lines_) == {"tree", "sgd"}
    np.testing.assert_array_equal(
        display.lines_["tree"].get_xdata(), [250, 500, 750, 1000]
    )
    assert len(display.ax_.lines) == 3


def test_prequential_display_without_curves_draws_no_legend():
    pytest.importorskip("matplotlib")
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        display = PrequentialDisplay({}, drift_positions=[500]).plot()
    assert display.lines_ == {} and display.ax_.get_legend() is None


def test_prequential_display_names_one_model_and_refuses_lists_and_nothing():
    X, y = separable_stream(300)
    display = PrequentialDisplay.from_estimator(
        tree.HoeffdingTreeClassifier(), X, y, window=100, plot=False
    )
    assert list(display.results) == ["HoeffdingTreeClassifier"]
    with pytest.raises(TypeError, match="dict of name to model"):
        PrequentialDisplay.from_estimator([tree.HoeffdingTreeClassifier()], X, y)
    with pytest.raises(ValueError, match="estimators is empty"):
        PrequentialDisplay.from_estimator({}, X, y)


def test_a_window_longer_than_the_stream_warns_that_the_curve_is_empty():
    X, y = separable_stream(50)
    with pytest.warns(UserWarning, match="window=100 is longer than the stream"):
        result = prequential_score(tree.HoeffdingTreeClassifier(), X, y, window=100)
    assert result.window_accuracy.size == 0 and 0 <= result.accuracy <= 1
