"""DriftMoE: a streaming mixture of Hoeffding-tree experts with a neural router."""

from numbers import Integral, Real

import numpy as np
from river import base as river_base
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    check_classification_targets,
    unique_labels,
)
from sklearn.utils.validation import check_is_fitted, validate_data

from .._torch import check_device, draw_seed, resolve_device
from .._validation import (
    check_layer_widths,
    check_sample_weight,
    check_single_class,
)
from ._driftmoe_docs import DOCSTRING
from ._experts import expert_template, fresh_copy, takes_weight
from ._fast_tree import HoeffdingFastPath
from ._river_face import _RiverClassifierMixin
from ._router import OnlineStandardizer, Router
from ._step import _MixtureStepMixin


class DriftMoEClassifier(
    ClassifierMixin, _RiverClassifierMixin, _MixtureStepMixin, BaseEstimator
):
    __doc__ = DOCSTRING

    _parameter_constraints = {
        "n_experts": [Interval(Integral, 1, None, closed="left")],
        "mode": [StrOptions({"data", "task"})],
        "top_k": [Interval(Integral, 1, None, closed="left")],
        "router_hidden": ["array-like"],
        "router_dropout": [Interval(Real, 0, 1, closed="left")],
        "router_lr": [Interval(Real, 0, None, closed="neither")],
        "router_batch_size": [Interval(Integral, 1, None, closed="left")],
        "grace_period": [Interval(Integral, 1, None, closed="left")],
        "delta": [Interval(Real, 0, 1, closed="neither")],
        "leaf_prediction": [StrOptions({"nba", "nb", "mc"})],
        "naive_bayes": [StrOptions({"river", "moa"})],
        "nominal_features": ["array-like", None],
        "expert": [HasMethods(["learn_one", "predict_proba_one", "clone"]), None],
        "standardize": ["boolean"],
        "mixing": [StrOptions({"hard", "soft"})],
        "drift_detector": [HasMethods(["update", "clone"]), None],
        "task_prediction": [StrOptions({"router", "product"})],
        "random_state": ["random_state"],
        "device": [str],
        "verbose": ["verbose"],
    }

    # river's Hoeffding-tree experts predict and learn through HoeffdingFastPath,
    # which gives the same numbers; tests switch it off to compare.
    _exact_fast_path = True

    def __init__(
        self,
        n_experts=12,
        mode="data",
        top_k=3,
        router_hidden=(256, 128),
        router_dropout=0.2,
        router_lr=2e-3,
        router_batch_size=256,
        grace_period=50,
        delta=1e-7,
        leaf_prediction="nba",
        naive_bayes="river",
        nominal_features=None,
        expert=None,
        standardize=False,
        mixing="hard",
        drift_detector=None,
        task_prediction="router",
        random_state=None,
        device="auto",
        verbose=0,
    ):
        self.n_experts = n_experts
        self.mode = mode
        self.top_k = top_k
        self.router_hidden = router_hidden
        self.router_dropout = router_dropout
        self.router_lr = router_lr
        self.router_batch_size = router_batch_size
        self.grace_period = grace_period
        self.delta = delta
        self.leaf_prediction = leaf_prediction
        self.naive_bayes = naive_bayes
        self.nominal_features = nominal_features
        self.expert = expert
        self.standardize = standardize
        self.mixing = mixing
        self.drift_detector = drift_detector
        self.task_prediction = task_prediction
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Learn the stream ``(X, y)`` in row order, starting from scratch.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The stream's features, in arrival order.
        y : array-like of shape (n_samples,)
            The labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative instance weights. A weight scales the instance in the
            router's loss, in the experts' statistics (river's ``w``) and in
            the standardiser; a row of weight 0 is predicted but not learnt.

        Returns
        -------
        self : DriftMoEClassifier
            The fitted model.
        """
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        sample_weight = self._check_weights(sample_weight, X)
        classes = unique_labels(y)
        check_single_class(classes)
        self._initialise(list(range(X.shape[1])), classes)
        self._learn_rows(X, self._encode(y), sample_weight=sample_weight)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Continue the stream with the mini-batch ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The mini-batch's features, in arrival order.
        y : array-like of shape (n_samples,)
            The labels.
        classes : array-like of shape (n_classes,), default=None
            Every label the stream can carry. Required on the first call,
            optional (and checked) afterwards.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative instance weights, as in :meth:`fit`.

        Returns
        -------
        self : DriftMoEClassifier
            The updated model.
        """
        X, codes, sample_weight = self._validate_stream_batch(
            X, y, classes, sample_weight
        )
        self._learn_rows(X, codes, sample_weight=sample_weight)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit_predict(self, X, y, classes=None, sample_weight=None):
        """Test-then-train on a mini-batch: predict each row, then learn it.

        The same as :meth:`partial_fit`, but also returns the label each row
        received just before it was learnt, which is what a prequential
        evaluation scores (see :func:`prequential_score`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The mini-batch's features, in arrival order.
        y : array-like of shape (n_samples,)
            The labels.
        classes : array-like of shape (n_classes,), default=None
            Every label the stream can carry. Required on the first call.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative instance weights, as in :meth:`fit`.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The prequential predictions, labels from ``classes_``.
        """
        X, codes, sample_weight = self._validate_stream_batch(
            X, y, classes, sample_weight
        )
        predicted_codes = np.empty(X.shape[0], dtype=np.int64)
        self._learn_rows(X, codes, predicted_codes, sample_weight)
        return self.classes_[predicted_codes]

    def predict_proba(self, X):
        """Class probabilities of the current model, without learning.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The instances.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        probabilities = np.empty((X.shape[0], len(self.classes_)))
        for index, row in enumerate(X):
            features = dict(zip(self._feature_keys, row.tolist()))
            probabilities[index] = self._test(features, row).probabilities
        return probabilities

    def predict(self, X):
        """Class labels of the current model, without learning.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The instances.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags

    # ------------------------------------------------------------------- internals

    def _initialise(self, feature_keys, classes):
        hidden = tuple(check_layer_widths(self.router_hidden, "router_hidden"))
        check_device(self.device)
        if self.mode == "data" and self.top_k > self.n_experts:
            raise ValueError(
                f"top_k={self.top_k} must not exceed n_experts={self.n_experts}."
            )
        template = expert_template(
            self.expert,
            self.grace_period,
            self.delta,
            self.leaf_prediction,
            self.nominal_features,
            self.naive_bayes,
        )
        self.device_ = resolve_device(self.device)
        self.classes_ = np.asarray(classes)
        self._codes = {label: code for code, label in enumerate(self.classes_.tolist())}
        self._feature_keys = feature_keys
        n_features = len(feature_keys)
        n_experts = self.n_experts if self.mode == "data" else len(self.classes_)
        random_state = check_random_state(self.random_state)
        self.router_ = Router(
            n_inputs=n_features,
            n_outputs=n_experts,
            hidden=hidden,
            dropout=self.router_dropout,
            learning_rate=self.router_lr,
            batch_size=self.router_batch_size,
            seed=draw_seed(random_state),
            device=self.device_,
        )
        self._expert_template = template
        self._fast_path = None
        if self._exact_fast_path and HoeffdingFastPath.supports(template):
            self._fast_path = HoeffdingFastPath(feature_keys)
        self._expert_seed = draw_seed(random_state)
        self.experts_ = [
            fresh_copy(template, self._expert_seed + index)
            for index in range(n_experts)
        ]
        self._detectors = None
        if self.drift_detector is not None:
            self._detectors = [self.drift_detector.clone() for _ in range(n_experts)]
        self._standardizer = (
            OnlineStandardizer(n_features) if self.standardize else None
        )
        self._pending_test = None
        self.n_instances_seen_ = 0
        self.n_router_steps_ = 0
        self.expert_learn_counts_ = np.zeros(n_experts, dtype=np.int64)
        self.n_mask_fallbacks_ = 0
        self.n_expert_resets_ = 0

    def _validate_stream_batch(self, X, y, classes, sample_weight):
        """Validate a mini-batch, set up the model on the first one, encode y."""
        first_call = not hasattr(self, "router_")
        X, y = validate_data(self, X, y, dtype=np.float64, reset=first_call)
        check_classification_targets(y)
        sample_weight = self._check_weights(sample_weight, X)
        if _check_partial_fit_first_call(self, classes):
            # The stream may start with one class, but it must declare two.
            check_single_class(self.classes_)
            self._initialise(list(range(X.shape[1])), self.classes_)
        return X, self._encode(y), sample_weight

    def _check_weights(self, sample_weight, X):
        """Validated weights, or None when there are none (or all are 1)."""
        if sample_weight is None:
            return None
        sample_weight = check_sample_weight(sample_weight, X, dtype=np.float64)
        if np.all(sample_weight == 1.0):
            return None
        self._require_weighted_experts()
        return sample_weight

    def _require_weighted_experts(self):
        if self.expert is not None and not takes_weight(self.expert):
            raise ValueError(
                f"Instance weights cannot reach the experts: "
                f"{type(self.expert).__name__}.learn_one takes no weight w."
            )

    def _encode(self, y):
        unseen = [label for label in np.unique(y).tolist() if label not in self._codes]
        if unseen:
            raise ValueError(
                f"y contains labels {unseen} that are not in classes_ "
                f"{self.classes_.tolist()}; pass every label of the stream as "
                f"classes= in the first call to partial_fit."
            )
        return np.fromiter(
            (self._codes[label] for label in y.tolist()), np.int64, len(y)
        )


# River's progressive validation and metrics accept river classifiers only; a
# virtual subclass registration makes DriftMoE one without inheriting river's
# base class, whose tag machinery clashes with scikit-learn's.
river_base.Classifier.register(DriftMoEClassifier)
