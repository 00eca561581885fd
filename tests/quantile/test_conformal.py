import numpy as np
import pytest

from skensemble.metrics import interval_coverage
from skensemble.quantile import QuantileAggregator
from skensemble.quantile._conformal import (
    conformity_scores,
    cv_plus_bounds,
    split_offsets,
)

from ._helpers import EmpiricalQuantiles, FixedQuantiles, heteroscedastic

LEVELS = [0.05, 0.5, 0.95]


def test_split_offset_is_the_conformal_rank_of_the_scores():
    scores = np.arange(1.0, 20.0)[:, None]  # n = 19, alpha = 0.1 -> rank 18
    offsets, guaranteed = split_offsets(scores, [0.1])
    assert offsets[0] == 18.0
    assert guaranteed[0]
    offsets, guaranteed = split_offsets(scores[:5], [0.1])  # rank 6 > n = 5
    assert offsets[0] == 5.0
    assert not guaranteed[0]


def test_scores_are_distance_outside_the_interval():
    predictions = np.array([[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]])
    scores = conformity_scores(predictions, np.array([3.0, 1.5]), [(0, 2)])
    np.testing.assert_allclose(scores[:, 0], [1.0, -0.5])


def test_cv_plus_with_one_fold_model_matches_split_ranks():
    predictions = np.zeros((1, 1, 3))
    scores = np.arange(1.0, 20.0)[:, None]
    lower, upper = cv_plus_bounds(
        predictions, np.zeros(19, dtype=int), scores, [(0, 2)], [0.1]
    )
    # floor(0.1 * 20) = 2nd smallest of -scores = -18; ceil(0.9 * 20) = 18th = 18
    assert lower[0, 0] == -18.0
    assert upper[0, 0] == 18.0


def test_integer_weights_equal_repeated_rows_in_split_and_cv_plus_ranks():
    rng = np.random.RandomState(0)
    scores = rng.normal(size=(30, 2))
    weight = rng.randint(0, 4, size=30)
    repeated = np.repeat(np.arange(30), weight)
    alphas = [0.1, 0.3]
    for got, expected in zip(
        split_offsets(scores, alphas, weight.astype(float)),
        split_offsets(scores[repeated], alphas),
        strict=True,
    ):
        np.testing.assert_array_equal(got, expected)
    folds = rng.randint(0, 3, size=30)
    predictions = rng.normal(size=(3, 7, 4))
    pairs = [(0, 3), (1, 2)]
    weighted = cv_plus_bounds(
        predictions, folds, scores, pairs, alphas, weight.astype(float)
    )
    plain = cv_plus_bounds(
        predictions, folds[repeated], scores[repeated], pairs, alphas
    )
    for got, expected in zip(weighted, plain, strict=True):
        np.testing.assert_array_equal(got, expected)
    with pytest.raises(ValueError, match="calibration rows all have sample_weight 0"):
        split_offsets(scores, alphas, np.zeros(30))


@pytest.mark.parametrize("conformal", ["split", "cv+"])
def test_conformal_calibration_follows_the_sample_weights(conformal):
    # Half the rows are ten times noisier and have weight 0: the weighted
    # intervals are calibrated on the quiet half alone.
    rng = np.random.RandomState(0)
    n_samples = 2000
    quiet = np.arange(n_samples) % 2 == 0
    X = rng.normal(size=(n_samples, 2))
    y = rng.normal(size=n_samples) * np.where(quiet, 1.0, 10.0)
    params = dict(
        quantiles=LEVELS, weights="mean", conformal=conformal, cv=3, random_state=0
    )
    model = QuantileAggregator([("fixed", FixedQuantiles())], **params)
    weighted = model.fit(X, y, sample_weight=quiet.astype(float))
    unweighted = QuantileAggregator([("fixed", FixedQuantiles())], **params).fit(X, y)
    X_test = rng.normal(size=(2000, 2))
    y_test = rng.normal(size=2000)
    interval = weighted.predict_interval(X_test, confidence=0.9)
    assert 0.85 <= interval_coverage(y_test, interval) <= 0.96
    width = np.mean(interval[:, 1] - interval[:, 0])
    wide = unweighted.predict_interval(X_test, confidence=0.9)
    assert width < np.mean(wide[:, 1] - wide[:, 0]) / 3


def coverages(conformal, n_samples, n_test, repetitions, alpha, first_seed=0):
    """Test coverage of the 1 - alpha interval over independent data sets."""
    results = []
    for repetition in range(repetitions):
        seed = first_seed + repetition
        X, y = heteroscedastic(n_samples + n_test, random_state=seed)
        aggregator = QuantileAggregator(
            [("empirical", EmpiricalQuantiles())],
            quantiles=LEVELS,
            weights="mean",
            conformal=conformal,
            calibration_size=0.2,
            cv=5,
            random_state=seed,
        ).fit(X[:n_samples], y[:n_samples])
        interval = aggregator.predict_interval(X[n_samples:], confidence=1 - alpha)
        results.append(interval_coverage(y[n_samples:], interval))
    return np.array(results)


@pytest.mark.parametrize("n_samples", [250, 500])
def test_split_cqr_coverage_is_at_least_nominal_and_not_much_more(n_samples):
    # Romano et al. (2019): 1 - alpha <= P(cover) <= 1 - alpha + 1 / (n_cal + 1).
    alpha, repetitions = 0.1, 150
    observed = coverages("split", n_samples, 1000, repetitions, alpha)
    n_calibration = round(0.2 * n_samples)
    sampling_error = 3 * observed.std() / np.sqrt(repetitions)
    assert observed.mean() >= 1 - alpha - sampling_error
    assert observed.mean() <= 1 - alpha + 1 / (n_calibration + 1) + sampling_error


def test_cv_plus_coverage_is_close_to_nominal():
    alpha, repetitions = 0.1, 40
    observed = coverages("cv+", 200, 500, repetitions, alpha, first_seed=100)
    sampling_error = 3 * observed.std() / np.sqrt(repetitions)
    # Barber et al. (2021) guarantee only 1 - 2 alpha; in practice CV+ is close
    # to 1 - alpha.
    assert observed.mean() >= 1 - alpha - sampling_error - 0.01


def test_conformal_learned_weights_cover_and_never_cross():
    X, y = heteroscedastic(1400, random_state=7)
    aggregator = QuantileAggregator(
        [("empirical", EmpiricalQuantiles())],
        quantiles=[0.05, 0.1, 0.5, 0.9, 0.95],
        weights="local",
        granularity="fine",
        conformal="split",
        max_iter=30,
        random_state=0,
    ).fit(X[:400], y[:400])
    predictions = aggregator.predict(X[400:], quantiles=aggregator.quantiles_)
    assert np.all(np.diff(predictions, axis=1) >= 0)
    coverage = interval_coverage(y[400:], aggregator.predict_interval(X[400:], 0.8))
    assert coverage >= 0.74
    assert aggregator.conformal_pairs_.tolist() == [[0.05, 0.95], [0.1, 0.9]]


def test_too_few_calibration_rows_warn():
    X, y = heteroscedastic(60, random_state=0)
    aggregator = QuantileAggregator(
        [("empirical", EmpiricalQuantiles())],
        quantiles=[0.01, 0.5, 0.99],
        weights="mean",
        conformal="split",
        random_state=0,
    )
    with pytest.warns(UserWarning, match="finite-sample guarantee"):
        aggregator.fit(X, y)
