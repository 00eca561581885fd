"""Read leaf structure, learning rate and regularisation out of fitted boosters.

Each reader checks that the model is a linear smoother of the training targets
(squared error, no row subsampling, no clipping of leaf values) and returns a
:class:`~skensemble.inspection._boosting.BoostedTrees`. The training rows and
weights given by the caller are checked against what the fitted trees recorded,
so a wrong ``X_train`` or ``sample_weight`` raises instead of giving silently
wrong weights.
"""

import json
import numbers

import numpy as np
from sklearn.dummy import DummyRegressor
from sklearn.model_selection import train_test_split

from ._boosting import BoostedTrees

_WRONG_TRAINING_DATA = (
    "The training rows do not reproduce the leaf sizes stored in the fitted "
    "{model}. Pass exactly the X_train (and sample_weight) it was fit on."
)


def _per_round(leaf_ids, n_parallel=1):
    """Split an (n, n_trees) leaf id matrix into per-round int blocks."""
    leaf_ids = np.asarray(leaf_ids).astype(np.int32)
    return [
        leaf_ids[:, start : start + n_parallel]
        for start in range(0, leaf_ids.shape[1], n_parallel)
    ]


def _n_leaves(train_leaves):
    return [block.max(axis=0) + 1 for block in train_leaves]


def _refuse(condition, message):
    if condition:
        raise ValueError(message)


def gradient_boosting_trees(model, X_train, sample_weight):
    """Structure of a fitted ``GradientBoostingRegressor``."""
    _refuse(
        model.loss != "squared_error",
        f"GradientBoostingRegressor(loss={model.loss!r}) rewrites leaf values "
        "(medians, quantiles or Newton steps), so it is not a linear smoother; "
        "only loss='squared_error' is supported.",
    )
    _refuse(
        model.subsample < 1.0,
        f"GradientBoostingRegressor(subsample={model.subsample}) draws rows from "
        "a random state that the fitted model does not keep, so the weights "
        "cannot be recovered; refit with subsample=1.0.",
    )
    init = model.init_
    if isinstance(init, str) and init == "zero":
        init_kind = "constant"
    elif isinstance(init, DummyRegressor) and init.strategy == "mean":
        init_kind = "mean"
    else:
        raise ValueError(
            f"GradientBoostingRegressor(init={model.init!r}) is not supported: "
            "use init=None (the training mean) or init='zero'."
        )
    n_train = X_train.shape[0]
    weight = np.ones(n_train) if sample_weight is None else sample_weight.copy()
    if model.n_iter_no_change is not None:
        _refuse(
            not isinstance(model.random_state, numbers.Integral),
            "GradientBoostingRegressor with n_iter_no_change holds out rows chosen "
            "by random_state; the hold-out can only be recovered when random_state "
            "is an int.",
        )
        _, held_out = train_test_split(
            np.arange(n_train),
            random_state=model.random_state,
            test_size=model.validation_fraction,
        )
        weight[held_out] = 0.0
    X32 = np.ascontiguousarray(X_train, dtype=np.float32)
    trees = model.estimators_[:, 0]
    leaf_ids = np.stack([tree.apply(X32, check_input=False) for tree in trees], 1)
    first = trees[0].tree_
    is_leaf = first.children_left == -1
    masses = np.bincount(leaf_ids[:, 0], weights=weight, minlength=first.node_count)
    _refuse(
        not np.allclose(masses[is_leaf], first.weighted_n_node_samples[is_leaf]),
        _WRONG_TRAINING_DATA.format(model="GradientBoostingRegressor"),
    )

    def leaf_of(X):
        X = np.ascontiguousarray(X, dtype=np.float32)
        ids = np.stack([tree.apply(X, check_input=False) for tree in trees], 1)
        return _per_round(ids)

    train_leaves = _per_round(leaf_ids)
    return BoostedTrees(
        train_leaves=train_leaves,
        leaf_of=leaf_of,
        n_leaves=_n_leaves(train_leaves),
        train_weight=weight,
        learning_rate=model.learning_rate,
        l2_regularization=0.0,
        init=init_kind,
    )


def _hist_leaf_ids(model, X):
    """Node id reached by each row in each tree, through private HGB predictors.

    HistGradientBoosting has no ``apply``; replacing a predictor's node values by
    the node numbers makes its ``predict`` return the node each row reaches.
    """
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
    from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

    X_preprocessed = model._preprocess_X(X, reset=False)
    known_categories, feature_map = model._bin_mapper.make_known_categories_bitsets()
    n_threads = _openmp_effective_n_threads()
    columns = []
    for (predictor,) in model._predictors:
        nodes = predictor.nodes.copy()
        nodes["value"] = np.arange(nodes.shape[0])
        numbered = TreePredictor(
            nodes, predictor.binned_left_cat_bitsets, predictor.raw_left_cat_bitsets
        )
        columns.append(
            numbered.predict(X_preprocessed, known_categories, feature_map, n_threads)
        )
    return np.stack(columns, axis=1).astype(np.int32)


def hist_gradient_boosting_trees(model, X_train, sample_weight):
    """Structure of a fitted ``HistGradientBoostingRegressor``."""
    _refuse(
        model.loss != "squared_error",
        f"HistGradientBoostingRegressor(loss={model.loss!r}) is not a linear "
        "smoother; only loss='squared_error' is supported.",
    )
    _refuse(
        model.monotonic_cst is not None,
        "monotonic_cst clips leaf values, so the model is not a linear smoother; "
        "refit with monotonic_cst=None.",
    )
    n_train = X_train.shape[0]
    weight = np.ones(n_train) if sample_weight is None else sample_weight.copy()
    leaf_ids = _hist_leaf_ids(model, X_train)
    first_nodes = model._predictors[0][0].nodes
    is_leaf = first_nodes["is_leaf"].astype(bool)
    candidates = [np.ones(n_train, dtype=bool)]
    if model.do_early_stopping_ and model._use_validation_data:
        fit_rows, _ = train_test_split(
            np.arange(n_train),
            test_size=model.validation_fraction,
            random_state=model._random_seed,
        )
        in_fit = np.zeros(n_train, dtype=bool)
        in_fit[fit_rows] = True
        candidates.insert(0, in_fit)
    for in_fit in candidates:
        counts = np.bincount(leaf_ids[in_fit, 0], minlength=first_nodes.shape[0])
        if np.array_equal(counts[is_leaf], first_nodes["count"][is_leaf]):
            weight = np.where(in_fit, weight, 0.0)
            break
    else:
        raise ValueError(
            _WRONG_TRAINING_DATA.format(model="HistGradientBoostingRegressor")
        )
    train_leaves = _per_round(leaf_ids)
    return BoostedTrees(
        train_leaves=train_leaves,
        leaf_of=lambda X: _per_round(_hist_leaf_ids(model, X)),
        n_leaves=_n_leaves(train_leaves),
        train_weight=weight,
        learning_rate=model.learning_rate,
        l2_regularization=model.l2_regularization,
        init="mean",
    )


def _parse_float(text):
    return float(str(text).strip("[]"))


def xgboost_trees(model, X_train, sample_weight):
    """Structure of a fitted ``xgboost.XGBRegressor`` (or XGBRFRegressor)."""
    booster = model.get_booster()
    config = json.loads(booster.save_config())["learner"]
    objective = config["objective"]["name"]
    _refuse(
        objective != "reg:squarederror",
        f"XGBRegressor(objective={objective!r}) is not a linear smoother; only "
        "'reg:squarederror' is supported.",
    )
    booster_kind = config["gradient_booster"]["name"]
    _refuse(
        booster_kind != "gbtree",
        f"booster={booster_kind!r} is not supported; only 'gbtree'.",
    )
    _refuse(
        int(config["learner_model_param"]["num_target"]) != 1,
        "multi-target XGBRegressor models are not supported.",
    )
    tree_params = config["gradient_booster"]["tree_train_param"]
    for name, reason in [
        ("subsample", "samples rows the fitted model does not keep"),
        ("alpha", "soft-thresholds leaf values (L1 is not linear in y)"),
        ("max_delta_step", "clips leaf values"),
    ]:
        value = _parse_float(tree_params[name])
        default = 1.0 if name == "subsample" else 0.0
        _refuse(
            value != default,
            f"XGBRegressor with {name}={value:g} {reason}, so the model is not an "
            f"exact linear smoother; refit with {name}={default:g}.",
        )
    _refuse(
        tree_params["monotone_constraints"] not in ("", "()"),
        "monotone_constraints clip leaf values, so the model is not a linear smoother.",
    )
    model_param = config["gradient_booster"]["gbtree_model_param"]
    n_parallel = int(model_param["num_parallel_tree"])
    weight = np.ones(X_train.shape[0]) if sample_weight is None else sample_weight
    leaf_ids = model.apply(X_train)
    first_tree = json.loads(booster[0:1].save_raw("json"))
    first_tree = first_tree["learner"]["gradient_booster"]["model"]["trees"][0]
    is_leaf = np.asarray(first_tree["left_children"]) == -1
    cover = np.asarray(first_tree["sum_hessian"])
    masses = np.bincount(
        leaf_ids[:, 0].astype(np.int64), weights=weight, minlength=cover.size
    )
    _refuse(
        not np.allclose(masses[is_leaf], cover[is_leaf], rtol=1e-5),
        _WRONG_TRAINING_DATA.format(model="XGBRegressor"),
    )
    train_leaves = _per_round(leaf_ids, n_parallel)
    return BoostedTrees(
        train_leaves=train_leaves,
        leaf_of=lambda X: _per_round(model.apply(X), n_parallel),
        n_leaves=_n_leaves(train_leaves),
        train_weight=np.asarray(weight, dtype=float),
        learning_rate=_parse_float(tree_params["eta"]),
        l2_regularization=_parse_float(tree_params["lambda"]),
        init="constant",
        base_score=_parse_float(config["learner_model_param"]["base_score"]),
    )
