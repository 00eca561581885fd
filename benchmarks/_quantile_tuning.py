"""Random search over the base models of benchmarks/quantile.py (--tune-base N).

The paper tunes every base model by random search with 20 draws, scored on a
validation part of the training rows (official code: ``RandomizedSearchCV``
over ``GBM_PARAM_GRID`` for LightGBM, min_samples_split/leaf in {8, 16, 64}
for the quantile forests, 50 trees each). Here each tunable base model draws
``n_draws`` settings from the spaces below, is fitted on a seeded 80% of the
training part and scored by the pinball loss over all levels (sorted) on the
other 20%. The test part is never seen. One setting serves every level (the
paper searches each of its 99 LightGBM models separately).

Spaces: the quantile forest uses the paper's forest grid. HistGradientBoosting
uses the paper's LightGBM grid where HGB has the parameter (num_leaves ->
max_leaf_nodes, min_child_samples -> min_samples_leaf, reg_lambda ->
l2_regularization, colsample_bytree -> max_features per split; subsample,
min_child_weight and reg_alpha have no HGB counterpart). XGBoost uses the same
grid with max_depth in place of num_leaves. Trees stay at 50, as in the
paper. Linear QR (no regularisation, as in the table) and TabM (its own early
stopping) are not searched.
"""

import time

from sklearn.model_selection import RandomizedSearchCV, ShuffleSplit

from skensemble.metrics import make_quantile_scorer
from skensemble.quantile import MultiQuantileRegressor

SPACES = {
    "qrf": {"min_samples_leaf": [8, 16, 64], "min_samples_split": [8, 16, 64]},
    "hgb": {
        "max_leaf_nodes": [10, 50, 100],
        "min_samples_leaf": [3, 9, 15],
        "l2_regularization": [0.1, 1.0, 5.0],
        "max_features": [0.4, 0.6],
    },
    "xgb": {
        "max_depth": [3, 6, 9],
        "min_child_weight": [0.01, 0.1, 1.0],
        "subsample": [0.4, 0.6, 0.8],
        "colsample_bytree": [0.4, 0.6],
        "reg_alpha": [0.1, 1.0, 5.0],
        "reg_lambda": [0.1, 1.0, 5.0],
    },
}


def tune_base_models(estimators, levels, X, y, n_draws, seed):
    """Best setting per tunable base model, and the seconds the search took.

    ``estimators`` maps names to unfitted single- or multi-level models (as
    built by ``base_estimators``); returns ``({name: params}, seconds)``.
    """
    start = time.perf_counter()
    chosen = {}
    for name, estimator in estimators.items():
        if name not in SPACES:
            continue
        search = RandomizedSearchCV(
            MultiQuantileRegressor(estimator, quantiles=levels, noncrossing="sort"),
            {f"estimator__{key}": values for key, values in SPACES[name].items()},
            n_iter=n_draws,
            scoring=make_quantile_scorer("pinball"),
            cv=ShuffleSplit(n_splits=1, test_size=0.2, random_state=seed),
            refit=False,
            random_state=seed,
        )
        search.fit(X, y)
        chosen[name] = {
            key.removeprefix("estimator__"): value
            for key, value in search.best_params_.items()
        }
    return chosen, time.perf_counter() - start
