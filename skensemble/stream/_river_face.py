"""river's face of DriftMoE: ``learn_one`` / ``predict_one`` on feature dicts."""

import copy
import pickle
from numbers import Real

import numpy as np
from sklearn.base import clone as sklearn_clone


class _RiverClassifierMixin:
    """river's classifier methods over the shared per-instance step."""

    # river reads this flag to call ``learn_one(x, y)`` in progressive validation.
    _supervised = True
    # river's wrappers (voting, chains, stacking) ask whether a model handles
    # more than two classes; DriftMoE does natively.
    _multiclass = True

    def learn_one(self, x, y, w=1.0):
        """Learn one instance given as a river feature dict.

        In ``mode="data"`` a label never seen before becomes a new class. In
        ``mode="task"`` the classes must be declared first through
        ``partial_fit(..., classes=...)`` or ``fit``.

        Parameters
        ----------
        x : dict
            Feature name to finite number; every instance carries the keys of
            the first one, which fix the order of the router's input.
        y : hashable
            The label.
        w : float, default=1.0
            Non-negative instance weight, as ``sample_weight`` in ``fit`` (river's
            trees call it ``w`` too); a weight of 0 learns nothing.
        """
        if isinstance(w, bool) or not isinstance(w, Real) or not 0 <= w < np.inf:
            raise ValueError(f"w must be a finite non-negative number; got {w!r}.")
        if w != 1.0:
            self._require_weighted_experts()
        if not hasattr(self, "router_"):
            self._validate_params()
            dict_row(x, list(x))  # refuse a bad first instance before any state
            self.n_features_in_ = len(x)
            self._initialise(list(x), np.asarray([y]))
        cached = self._pending_test
        if y not in self._codes:
            self._add_class(y)
        if cached is None or cached[0] is not x:
            step = self._test(x, self._row_from_dict(x))
        else:
            step = cached[1]
            missing = len(self.classes_) - len(step.probabilities)
            if missing:
                step.expert_probabilities = np.pad(
                    step.expert_probabilities, ((0, 0), (0, missing))
                )
        self._pending_test = None
        try:
            self._train(x, step, self._codes[y], float(w))
        finally:
            self._flush_experts()

    def predict_proba_one(self, x):
        """Class probabilities for one river feature dict (``{}`` before learning).

        The computation is kept so that ``learn_one`` on the same dict object
        reuses it instead of querying the experts again.

        Parameters
        ----------
        x : dict
            Feature name to value.

        Returns
        -------
        proba : dict
            Label to probability.
        """
        if not hasattr(self, "router_"):
            return {}
        step = self._test(x, self._row_from_dict(x))
        self._pending_test = (x, step)
        return dict(zip(self.classes_.tolist(), step.probabilities.tolist()))

    def predict_one(self, x):
        """The predicted label for one river feature dict (``None`` before learning).

        Parameters
        ----------
        x : dict
            Feature name to value.

        Returns
        -------
        label : hashable or None
            The predicted label.
        """
        probabilities = self.predict_proba_one(x)
        if not probabilities:
            return None
        return max(probabilities, key=probabilities.get)

    def clone(self, new_params=None, include_attributes=False):
        """A fresh copy with the same parameters, as river's ``Base.clone``.

        river's wrappers (``ensemble.BaggingClassifier``,
        ``drift.DriftRetrainingClassifier``, a ``compose.Pipeline``'s own
        ``clone``...) copy their models this way.

        Parameters
        ----------
        new_params : dict, default=None
            Parameters to change in the copy.
        include_attributes : bool, default=False
            Also copy what the model has learnt.

        Returns
        -------
        model : DriftMoEClassifier
            The copy.
        """
        model = copy.deepcopy(self) if include_attributes else sklearn_clone(self)
        if new_params:
            model.set_params(**copy.deepcopy(new_params))
        return model

    @property
    def _raw_memory_usage(self):
        # river's memory report (progressive_val_score(show_memory=True)): the
        # pickled size in bytes, which counts the router's tensors and every
        # expert tree (river's own estimate walks __dict__ and would miss the
        # tensors' storage).
        return len(pickle.dumps(self))

    @property
    def _memory_usage(self):
        from river.utils.pretty import humanize_bytes

        return humanize_bytes(self._raw_memory_usage)

    def _get_params(self):
        # river's name for get_params (its Pipeline.clone reads it on each step).
        return self.get_params(deep=False)

    def _add_class(self, label):
        if self.mode == "task":
            raise ValueError(
                f"learn_one got the unseen label {label!r}; mode='task' needs one "
                f"expert per class, so declare every class first with "
                f"partial_fit(X, y, classes=...)."
            )
        self._codes[label] = len(self.classes_)
        self.classes_ = np.asarray([*self.classes_.tolist(), label])

    def _row_from_dict(self, x):
        return dict_row(x, self._feature_keys)


def dict_row(x, keys):
    """The values of ``x`` at ``keys`` as a float64 row, or a clear error.

    The router is a neural network: one NaN would turn its weights into NaN
    for the rest of the stream, so non-finite values are refused here, as the
    array path refuses them in ``check_array``.
    """
    try:
        row = np.fromiter((x[key] for key in keys), np.float64, len(keys))
    except KeyError as error:
        raise ValueError(
            f"x lacks the feature {error.args[0]!r}; every instance must carry "
            f"the {len(keys)} features the model was first given."
        ) from None
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"x has a value that is not a number ({error}); encode nominal "
            f"features as numbers and name them in nominal_features."
        ) from None
    finite = np.isfinite(row)
    if not finite.all():
        key = keys[int(np.argmin(finite))]
        raise ValueError(
            f"x[{key!r}] is NaN or infinite; DriftMoE needs finite features "
            f"(impute missing values first, e.g. with river's "
            f"preprocessing.StatImputer)."
        )
    return row
