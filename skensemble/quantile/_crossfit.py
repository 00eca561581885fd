"""Fit the base models and collect their out-of-fold quantile predictions.

The aggregator must learn its weights from predictions the base models made
on rows they were not trained on; otherwise it learns to trust whichever model
overfits most. Cross-fitting gives every training row such a prediction. The
nested variant also holds out every pair of folds, which CV+ needs so that the
aggregator of outer fold k never sees base models trained on fold k.
"""

from itertools import combinations

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone

from skensemble.quantile._multi import (
    MultiQuantileRegressor,
    final_estimator,
    quantile_strategy,
)


def as_multi_quantile(estimator, grid):
    """An unfitted clone of ``estimator`` that predicts the levels of ``grid``."""
    strategy = quantile_strategy(estimator)
    if strategy == "native":
        model = clone(estimator)
        prefix, final = final_estimator(model)
        if "quantiles" in final.get_params(deep=False):
            model.set_params(**{prefix + "quantiles": grid})
        return model
    return MultiQuantileRegressor(clone(estimator), quantiles=grid)


def predict_grid(model, X, grid):
    """Predictions of a fitted multi-quantile model at every level of ``grid``."""
    return np.asarray(model.predict(X, quantiles=grid), dtype=float)


def _fit_and_predict(model, X, y, sample_weight, train_rows, predict_rows, grid):
    fit_params = {}
    if sample_weight is not None:
        fit_params["sample_weight"] = sample_weight[train_rows]
    model = clone(model).fit(X[train_rows], y[train_rows], **fit_params)
    if predict_rows is None:
        return model, None
    return model, predict_grid(model, X[predict_rows], grid)


def crossfit(
    models, X, y, fold_of_sample, grid, *, nested, n_jobs, verbose, sample_weight=None
):
    """Fit every model on all rows, on each fold's complement, and (if nested)
    on the complement of each pair of folds, with the rows' ``sample_weight``.

    Returns a dict with ``full`` (fitted models), ``folds`` (per fold, the
    models fitted without it), ``oof`` (n_samples, n_models, n_levels) and, when
    nested, ``inner_oof``: per outer fold k an array whose rows outside fold k
    hold predictions of models fitted without fold k and the row's own fold.
    """
    n_folds = int(fold_of_sample.max()) + 1
    everything = np.arange(X.shape[0])
    jobs = [(("full", None), everything, None)]
    for fold in range(n_folds):
        held_out = np.flatnonzero(fold_of_sample == fold)
        jobs.append(
            ((("fold", fold)), np.flatnonzero(fold_of_sample != fold), held_out)
        )
    if nested:
        for first, second in combinations(range(n_folds), 2):
            kept = (fold_of_sample != first) & (fold_of_sample != second)
            held_out = np.flatnonzero(~kept)
            jobs.append(((("pair", (first, second))), np.flatnonzero(kept), held_out))
    results = Parallel(n_jobs=n_jobs, verbose=verbose)(
        delayed(_fit_and_predict)(
            model, X, y, sample_weight, train_rows, predict_rows, grid
        )
        for _, train_rows, predict_rows in jobs
        for model in models
    )
    n_models, n_levels = len(models), grid.size
    out = {
        "full": [],
        "folds": [[] for _ in range(n_folds)],
        "oof": np.full((X.shape[0], n_models, n_levels), np.nan),
    }
    if nested:
        out["inner_oof"] = np.full((n_folds, X.shape[0], n_models, n_levels), np.nan)
    for job_index, ((kind, key), _, predict_rows) in enumerate(jobs):
        for model_index in range(n_models):
            fitted, predictions = results[job_index * n_models + model_index]
            if kind == "full":
                out["full"].append(fitted)
            elif kind == "fold":
                out["folds"][key].append(fitted)
                out["oof"][predict_rows, model_index] = predictions
            else:
                first, second = key
                # Rows of fold `second` seen by a model fitted without folds
                # `first` and `second` are inner out-of-fold rows for outer fold
                # `first`, and vice versa.
                for outer, inner in ((first, second), (second, first)):
                    rows = fold_of_sample[predict_rows] == inner
                    out["inner_oof"][outer, predict_rows[rows], model_index] = (
                        predictions[rows]
                    )
    return out


def fit_full(models, X, y, n_jobs, verbose, sample_weight=None):
    """Fit every model on all rows (no out-of-fold predictions needed)."""
    everything = np.arange(X.shape[0])
    results = Parallel(n_jobs=n_jobs, verbose=verbose)(
        delayed(_fit_and_predict)(model, X, y, sample_weight, everything, None, None)
        for model in models
    )
    return [fitted for fitted, _ in results]


def check_estimators(estimators):
    """The names of a non-empty list of unique (name, estimator) tuples."""
    if not isinstance(estimators, (list, tuple)) or len(estimators) == 0:
        raise ValueError(
            "estimators must be a non-empty list of (name, estimator) tuples; "
            f"got {estimators!r}."
        )
    names = []
    for item in estimators:
        if not (
            isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)
        ):
            raise ValueError(
                "Each entry of estimators must be a (name, estimator) tuple; "
                f"got {item!r}."
            )
        if not (hasattr(item[1], "fit") and hasattr(item[1], "predict")):
            raise ValueError(
                f"The estimator named {item[0]!r} is {item[1]!r}, which has no "
                "fit and predict; leave an entry out instead of marking it."
            )
        names.append(item[0])
    if len(set(names)) != len(names):
        raise ValueError(f"Estimator names must be unique; got {names}.")
    return names


def check_finite(base_predictions, names):
    """Raise when a base model's out-of-fold predictions are not finite."""
    finite = np.isfinite(base_predictions).all(axis=(0, 2))
    if not finite.all():
        bad = [name for name, ok in zip(names, finite, strict=True) if not ok]
        raise ValueError(
            f"Base models {bad} produced non-finite out-of-fold quantile "
            "predictions; the aggregation weights cannot be learned from them."
        )
