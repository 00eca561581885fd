"""DriftMoEClassifier's docstring, kept apart so the estimator reads top to bottom."""

DOCSTRING = """Streaming mixture of incremental experts with a neural router (DriftMoE).

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
