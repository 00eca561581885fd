"""Input checks shared by the estimators: one place for the NaN/inf/label rules."""

import numbers

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import _check_sample_weight


def reject_infinity(values, name="X", *, why=""):
    """Raise a ``ValueError`` if the float array ``values`` holds +/-inf."""
    if np.isinf(values).any():
        raise ValueError(f"Input {name} contains infinity.{' ' + why if why else ''}")


def check_layer_widths(widths, name):
    """Hidden-layer ``widths`` (an int or a sequence) as a non-empty list of ints >= 1.

    ``int()`` alone would silently take 8.5, "8" or True.
    """
    values = np.atleast_1d(np.asarray(widths, dtype=object)).tolist()
    if any(not isinstance(w, numbers.Integral) or isinstance(w, bool) for w in values):
        raise ValueError(f"{name} must hold integer widths; got {widths!r}.")
    if not values or min(values) < 1:
        raise ValueError(
            f"{name} must hold at least one positive width; got {widths!r}."
        )
    return [int(w) for w in values]


def check_sample_weight(sample_weight, X, dtype=None):
    """``sample_weight`` as finite, non-negative weights of ``len(X)``, sum > 0.

    Negative weights make a loss unbounded below, and weights summing to zero
    leave nothing to fit or average. (By hand: scikit-learn's keyword for the
    sign check was renamed in 1.6, the lowest version we allow.)
    """
    sample_weight = _check_sample_weight(sample_weight, X, dtype=dtype)
    if np.any(sample_weight < 0):
        raise ValueError("sample_weight must be non-negative.")
    if not sample_weight.sum() > 0:  # newer scikit-learn refuses this first
        raise ValueError("sample_weight sums to zero: every sample has weight 0.")
    return sample_weight


def check_single_class(classes):
    """Raise the error scikit-learn expects when ``y`` has only one class."""
    if len(classes) < 2:
        raise ValueError(
            "Classifier can't train when only one class is present: "
            f"y contains only {classes[0]!r}."
        )


def holdout_split(X, y, sample_weight, fraction, random_state, stratify=None):
    """Train and validation parts ``(X, y, weight)`` for early stopping.

    Stratified by ``stratify`` when given, falling back to a plain random split
    when a class is too rare to stratify; validation rows are scored unweighted.
    """
    indices = np.arange(len(X))
    try:
        train, valid = train_test_split(
            indices, test_size=fraction, random_state=random_state, stratify=stratify
        )
    except ValueError:
        train, valid = train_test_split(
            indices, test_size=fraction, random_state=random_state
        )
    weight = None if sample_weight is None else sample_weight[train]
    return (X[train], y[train], weight), (X[valid], y[valid], None)


# Parameters a warm-started fit may change: none of them is built into the
# network or its training loop.
_WARM_START_FREE = {"warm_start", "verbose", "random_state"}


def check_warm_start_params(estimator, continuing, applied=()):
    """Record the parameters of a fresh fit; when continuing, refuse changes.

    A warm-started fit keeps training the network built by the first fit, so a
    parameter built into it (``k``, the widths, the loss...) cannot change: it
    would be silently ignored (``k`` would report 4 for a network of 2
    members). ``applied`` names the training-loop parameters the estimator
    applies to the continued network (``max_iter``, ``learning_rate``...);
    those may change.
    """
    free = _WARM_START_FREE.union(applied)
    params = {
        name: value
        for name, value in estimator.get_params(deep=False).items()
        if name not in free
    }
    if not continuing:
        estimator._first_fit_params = params
        return
    first = getattr(estimator, "_first_fit_params", params)
    changed = [name for name in params if not _same(params[name], first.get(name))]
    if changed:
        before = ", ".join(f"{name}={first.get(name)!r}" for name in changed)
        raise ValueError(
            f"warm_start=True continues the network of the first fit, which used "
            f"{before}; set {', '.join(changed)} back, or set warm_start=False "
            f"to fit afresh."
        )


def _same(a, b):
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    try:
        values = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
        return bool(np.array_equal(*values))
    except (TypeError, ValueError):
        return False
