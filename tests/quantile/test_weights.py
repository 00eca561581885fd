"""The weight training of the aggregator: crossing penalty and random search."""

import itertools

import numpy as np
import pytest
import torch
from sklearn.ensemble import HistGradientBoostingRegressor

from skensemble.quantile import MultiQuantileRegressor, QuantileAggregator
from skensemble.quantile._weights import (
    LOCAL_SEARCH_SPACE,
    SEARCH_SPACE,
    AggregationHead,
    crossing,
    pinball,
    search_candidates,
    train_head,
)

from ._helpers import heteroscedastic


def brute_force_crossing(prediction, margin):
    rows, n_levels = prediction.shape
    pairs = list(itertools.combinations(range(n_levels), 2))
    total = sum(
        max(prediction[r, i] - prediction[r, j] + margin, 0.0)
        for r in range(rows)
        for i, j in pairs
    )
    return total / (rows * len(pairs))


@pytest.mark.parametrize("margin", [0.0, 0.05])
def test_crossing_penalty_is_the_mean_hinge_over_all_level_pairs(margin):
    prediction = np.random.RandomState(0).normal(size=(7, 6))
    value = crossing(torch.tensor(prediction), margin)
    assert float(value) == pytest.approx(brute_force_crossing(prediction, margin))


def test_integer_row_weights_equal_repeating_the_rows_in_both_losses():
    rng = np.random.RandomState(0)
    prediction = torch.tensor(rng.normal(size=(9, 4)))
    target = torch.tensor(rng.normal(size=9))
    levels = torch.tensor([0.1, 0.4, 0.6, 0.9], dtype=torch.float64)
    weight = np.array([0, 1, 2, 3, 1, 0, 2, 1, 1])
    repeated = torch.tensor(np.repeat(np.arange(9), weight))
    w = torch.tensor(weight, dtype=torch.float64)
    assert float(pinball(prediction, target, levels, w)) == pytest.approx(
        float(pinball(prediction[repeated], target[repeated], levels))
    )
    assert float(crossing(prediction, 0.1, w)) == pytest.approx(
        float(crossing(prediction[repeated], 0.1))
    )


def test_crossing_penalty_sees_pairs_beyond_neighbours():
    # Neighbours 0-1 and 1-2 are 0.1 apart, so a margin of 0.15 is violated by
    # both; the pair 0-2 (0.2 apart) is not. Without margin nothing is penalised.
    prediction = torch.tensor([[0.0, 0.1, 0.2]])
    assert float(crossing(prediction, 0.0)) == 0.0
    assert float(crossing(prediction, 0.15)) == pytest.approx(2 * 0.05 / 3)
    # Levels 0 and 2 cross by 0.3 while 0-1 and 1-2 cross by 0.1 and 0.2.
    crossed = torch.tensor([[0.3, 0.2, 0.0]])
    assert float(crossing(crossed, 0.0)) == pytest.approx((0.1 + 0.2 + 0.3) / 3)


def test_search_candidates_start_with_the_given_settings_and_stay_in_the_grid():
    params = {
        "n_search": 6,
        "weights": "local",
        "crossing_penalty": 3.0,
        "crossing_margin": 0.0,
        "hidden_size": 16,
        "n_layers": 1,
        "dropout": 0.2,
        "learning_rate": 1e-2,
    }
    candidates = search_candidates(params, seed=0)
    assert len(candidates) == 6
    assert candidates[0] == params
    for candidate in candidates[1:]:
        for key, grid in {**SEARCH_SPACE, **LOCAL_SEARCH_SPACE}.items():
            assert candidate[key] in grid
        assert candidate["learning_rate"] == 1e-2
    global_candidates = search_candidates({**params, "weights": "global"}, seed=0)
    assert all(c["hidden_size"] == 16 for c in global_candidates)
    single = {**params, "n_search": 1}
    assert search_candidates(single, seed=0) == [single]


def test_search_keeps_the_candidate_with_the_lowest_validation_loss():
    X, y = heteroscedastic(300, random_state=3)
    settings = dict(
        estimators=[
            (
                "hgb",
                MultiQuantileRegressor(
                    HistGradientBoostingRegressor(loss="quantile", max_iter=10),
                    quantiles=[0.1, 0.5, 0.9],
                ),
            ),
        ],
        quantiles=[0.1, 0.5, 0.9],
        weights="local",
        granularity="medium",
        max_iter=15,
        n_iter_no_change=5,
        random_state=0,
    )
    alone = QuantileAggregator(**settings).fit(X, y)
    searched = QuantileAggregator(**settings, n_search=4).fit(X, y)
    # The first candidate trains exactly as without search, on the same rows.
    assert min(searched.validation_scores_) <= min(alone.validation_scores_)
    assert alone.search_params_ == {
        "crossing_penalty": 1.0,
        "crossing_margin": 0.0,
        "hidden_size": 64,
        "n_layers": 2,
        "dropout": 0.0,
    }
    assert set(searched.search_params_) == set(alone.search_params_)


def test_search_space_is_the_papers_single_margin_grid():
    # amazon-science/quantile-aggregation, model/neural_aggregator.py:
    # NETWORK_PARAM_GRID and QUANTILE_LOSS_PARAM_GRID_FIX (used with the
    # default --margin single; learning rate 1e-3 and weight decay 1e-7 fixed).
    assert SEARCH_SPACE == {
        "crossing_penalty": [0.5, 1.0, 2.0, 5.0, 10.0],
        "crossing_margin": [1e-4, 1e-3, 5e-3, 7.5e-3, 9.9e-3],
    }
    assert LOCAL_SEARCH_SPACE == {
        "hidden_size": [64, 128],
        "n_layers": [2, 3],
        "dropout": [0.0, 0.05, 0.1],
    }
    defaults = QuantileAggregator([("a", None)]).get_params()
    assert defaults["learning_rate"] == 1e-3
    assert defaults["weight_decay"] == 1e-7


def _training_problem(n_samples=40):
    rng = np.random.RandomState(0)
    base = np.sort(rng.normal(size=(n_samples, 2, 3)), axis=2)
    target = rng.normal(size=n_samples)
    features = rng.normal(size=(n_samples, 2))
    train = (features[:30], base[:30], target[:30], None)
    validation = (features[30:], base[30:], target[30:], None)
    return train, validation


def _settings(**changes):
    settings = {
        "learning_rate": 1e-2,
        "weight_decay": 0.0,
        "batch_size": 8,
        "max_iter": 6,
        "n_iter_no_change": 1000,
        "validation_interval": None,
        "tol": 0.0,
        "crossing_penalty": 0.0,
        "crossing_margin": 0.0,
        "verbose": 0,
    }
    settings.update(changes)
    return settings


@pytest.mark.parametrize("interval", [None, 1, 3, 5])
def test_validation_is_checked_every_epoch_or_every_interval_steps(interval):
    train, validation = _training_problem()
    head = AggregationHead(2, 3, "coarse")
    levels = np.array([0.1, 0.5, 0.9])
    settings = _settings(validation_interval=interval)
    losses, scores = train_head(head, train, validation, levels, settings, 0, "cpu")
    steps_per_epoch = 4  # 30 rows in batches of 8
    assert len(losses) == 6
    expected = 6 if interval is None else 6 * steps_per_epoch // interval
    assert len(scores) == expected


def test_step_patience_counts_checks_and_stops_mid_epoch():
    train, validation = _training_problem()
    head = AggregationHead(2, 3, "coarse")
    levels = np.array([0.1, 0.5, 0.9])
    # A learning rate of zero never improves on the first check, so training
    # stops after 1 + n_iter_no_change checks: 3 * 3 = 9 steps, in epoch 3.
    settings = _settings(
        learning_rate=1e-30, validation_interval=3, n_iter_no_change=2, max_iter=50
    )
    losses, scores = train_head(head, train, validation, levels, settings, 0, "cpu")
    assert len(scores) == 3
    assert len(losses) == 3
    assert len(set(scores)) == 1


def test_aggregator_uses_the_step_schedule():
    X, y = heteroscedastic(200, random_state=1)
    aggregator = QuantileAggregator(
        [
            (
                "hgb",
                MultiQuantileRegressor(
                    HistGradientBoostingRegressor(loss="quantile", max_iter=10),
                    quantiles=[0.1, 0.5, 0.9],
                ),
            )
        ],
        quantiles=[0.1, 0.5, 0.9],
        weights="global",
        granularity="medium",
        validation_interval=2,
        max_iter=4,
        random_state=0,
    ).fit(X, y)
    # 160 of the 200 rows train the weights (40 validate), in batches of 32
    # (the paper's rule): 5 steps per epoch, 20 steps, a check every 2 steps.
    assert aggregator.n_iter_ == 4
    assert len(aggregator.validation_scores_) == 10


def test_search_candidates_in_parallel_give_the_sequential_result():
    X, y = heteroscedastic(200, random_state=5)
    settings = dict(
        estimators=[
            ("hgb", HistGradientBoostingRegressor(loss="quantile", max_iter=10)),
        ],
        quantiles=[0.1, 0.5, 0.9],
        max_iter=8,
        n_search=3,
        random_state=0,
    )
    sequential = QuantileAggregator(**settings).fit(X, y)
    parallel = QuantileAggregator(**settings, n_jobs=2).fit(X, y)
    assert parallel.search_params_ == sequential.search_params_
    assert parallel.validation_scores_ == sequential.validation_scores_
    np.testing.assert_array_equal(parallel.predict(X), sequential.predict(X))
