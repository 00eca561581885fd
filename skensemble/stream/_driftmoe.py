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
from ._experts import expert_template, fresh_copy
from ._fast_tree import HoeffdingFastPath
from ._river_face import _RiverClassifierMixin
from ._router import OnlineStandardizer, Router
from ._step import _MixtureStepMixin


class DriftMoEClassifier(
    ClassifierMixin, _RiverClassifierMixin, _MixtureStepMixin, BaseEstimator
):
    """Streaming mixture of incremental experts with a neural router (DriftMoE).

    Every instance is first predicted, then learnt (test-then-train). In
    ``mode="data"`` (MoE-Data) a pool of ``n_experts`` multi-class Hoeffding
    trees is scored by a small MLP router: the router's best expert predicts
    (hard top-1), the ``top_k`` best experts learn the true label, and the
    router learns, with a binary cross-entropy loss, a multi-hot mask of the
    experts that were right (or, when none was, the expert most confident in
    the true class). The router takes an Adam step every ``router_batch_size``
    instances. In ``mode="task"`` (MoE-Task) there is one binary expert per
    class, trained one-vs-rest on every instance, and the router learns the
    one-hot label; in the paper's code the router alone predicts.

    The model has three faces: scikit-learn's ``fit`` (one pass over an array,
    in row order) and ``partial_fit`` on mini-batches, and river's
    ``learn_one`` / ``predict_one`` / ``predict_proba_one`` on feature dicts,
    so ``river.evaluate.progressive_val_score`` runs it. Both paths apply the
    same per-instance step and give identical models for the same
    ``random_state``.

    Read more in the :ref:`User Guide <stream>`.

    Parameters
    ----------
    n_experts : int, default=12
        Number of experts in ``mode="data"``. MoE-Task uses one per class.
    mode : {"data", "task"}, default="data"
        MoE-Data (multi-class experts, router picks an expert) or MoE-Task
        (one binary expert per class, router scores classes).
    top_k : int, default=3
        Experts that learn each instance in ``mode="data"`` (the router's
        ``top_k`` best); with ``mixing="soft"`` also the experts mixed.
    router_hidden : tuple of int, default=(256, 128)
        Hidden layer widths of the router MLP.
    router_dropout : float, default=0.2
        Dropout after every hidden layer but the last, active in the loss
        forward of each router step. The paper's MoE-Data code kept the router
        in evaluation mode, so its dropout never acted: ``0.0`` reproduces it.
    router_lr : float, default=2e-3
        Adam learning rate of the router.
    router_batch_size : int, default=256
        Instances per router step (``1`` gives the per-instance update of the
        paper's MoE-Task code).
    grace_period : int, default=50
        Grace period of the default Hoeffding-tree experts.
    delta : float, default=1e-7
        Split confidence of the default Hoeffding-tree experts.
    leaf_prediction : {"nba", "nb", "mc"}, default="nba"
        Leaf prediction of the default Hoeffding-tree experts.
    naive_bayes : {"river", "moa"}, default="river"
        Naive-Bayes rules of the default experts' leaves. ``"river"``: river's
        (log-space sum that skips a feature whose likelihood is zero or
        undefined). ``"moa"``: MOA's, as in the paper's CapyMOA experts
        (product of likelihoods, zero for a class that has no estimator for a
        feature or a zero-variance one away from its mean, Laplace-smoothed
        nominal counts, ties to the lowest class). Only for the default
        experts; ``"moa"`` does not take the exact fast path, so it is slower
        on wide streams.
    nominal_features : list, default=None
        Features the default Hoeffding-tree experts treat as nominal (river's
        ``nominal_attributes``): column indices for arrays, dict keys for
        ``learn_one``. MOA, and so the paper, takes them from the data schema
        (e.g. Electricity's ``day``). Only for the default experts: set
        ``nominal_attributes`` on an ``expert`` template instead.
    expert : river classifier, default=None
        Template for the experts (cloned, and reseeded when it has a ``seed``
        parameter), e.g. ``river.tree.HoeffdingAdaptiveTreeClassifier()``.
        ``None`` builds a Hoeffding tree from ``grace_period``, ``delta`` and
        ``leaf_prediction``.
    standardize : bool, default=False
        Standardise the router input with running means and variances. The
        paper feeds raw features.
    mixing : {"hard", "soft"}, default="hard"
        ``"hard"``: the router's best expert predicts (the paper).
        ``"soft"``: the ``top_k`` experts' probabilities are averaged with the
        softmax of their router scores. Only used in ``mode="data"``.
    drift_detector : river drift detector, default=None
        When given, each expert gets a clone that watches its 0/1 error on the
        instances it learns; when it fires, the expert is replaced by a fresh
        one. ``None`` (the paper) never resets an expert.
    task_prediction : {"router", "product"}, default="router"
        ``mode="task"`` only. ``"router"``: argmax of the router's logits, as
        in the paper's code. ``"product"``: argmax of the router's sigmoid
        times each binary expert's probability of its class.
    random_state : int, RandomState instance or None, default=None
        Seeds the router initialisation, its dropout and the experts' seeds.
    device : str, default="auto"
        Torch device of the router steps ("auto" picks CUDA when available).
    verbose : int, default=0
        Print progress every tenth of the rows given to ``fit`` or
        ``partial_fit`` when > 0.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen during the first ``fit``/``partial_fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.
    device_ : torch.device
        The resolved device.
    router_ : object
        The router (torch module in ``router_.module``).
    experts_ : list of river classifiers
        The experts (binary one-vs-rest in ``mode="task"``).
    n_instances_seen_ : int
        Instances learnt so far.
    n_router_steps_ : int
        Router optimisation steps taken.
    expert_learn_counts_ : ndarray of shape (n_experts,)
        Instances each expert position has learnt.
    n_mask_fallbacks_ : int
        Instances where no expert was right and the mask fell back to the
        expert most confident in the true class (``mode="data"``).
    n_expert_resets_ : int
        Experts replaced after their drift detector fired.

    See Also
    --------
    prequential_score : Test-then-train evaluation over an array stream.
    river.forest.ARFClassifier : Adaptive random forest, a strong stream baseline.

    References
    ----------
    .. [1] M. Aspis, S. A. Cajas Ordoñez, A. L. Suárez-Cetrulo
       and R. Simón Carbajo, "DriftMoE: A Mixture of Experts Approach to
       Handle Concept Drifts", arXiv:2507.18464, 2025.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skensemble.stream import DriftMoEClassifier
    >>> X, y = make_classification(n_samples=600, random_state=0)
    >>> model = DriftMoEClassifier(n_experts=4, top_k=2, random_state=0)
    >>> model = model.partial_fit(X[:300], y[:300], classes=[0, 1])
    >>> model = model.partial_fit(X[300:], y[300:])
    >>> model.n_router_steps_
    2
    >>> model.predict(X[:3]).shape
    (3,)
    """

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
    def fit(self, X, y):
        """Learn the stream ``(X, y)`` in row order, starting from scratch.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The stream's features, in arrival order.
        y : array-like of shape (n_samples,)
            The labels.

        Returns
        -------
        self : DriftMoEClassifier
            The fitted model.
        """
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self._initialise(list(range(X.shape[1])), unique_labels(y))
        self._learn_rows(X, self._encode(y))
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None):
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

        Returns
        -------
        self : DriftMoEClassifier
            The updated model.
        """
        X, codes = self._validate_stream_batch(X, y, classes)
        self._learn_rows(X, codes)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit_predict(self, X, y, classes=None):
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

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The prequential predictions, labels from ``classes_``.
        """
        X, codes = self._validate_stream_batch(X, y, classes)
        predicted_codes = np.empty(X.shape[0], dtype=np.int64)
        self._learn_rows(X, codes, predicted_codes)
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
        hidden = tuple(int(width) for width in np.atleast_1d(self.router_hidden))
        if not hidden or min(hidden) < 1:
            raise ValueError(
                f"router_hidden must be a non-empty sequence of positive widths, "
                f"got {self.router_hidden!r}."
            )
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

    def _validate_stream_batch(self, X, y, classes):
        """Validate a mini-batch, set up the model on the first one, encode y."""
        first_call = not hasattr(self, "router_")
        X, y = validate_data(self, X, y, dtype=np.float64, reset=first_call)
        check_classification_targets(y)
        if _check_partial_fit_first_call(self, classes):
            self._initialise(list(range(X.shape[1])), self.classes_)
        return X, self._encode(y)

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
