"""EnsLossClassifier's docstring, kept apart so the estimator reads top to bottom."""

DOCSTRING = """Classifier trained with a new random calibrated loss at every mini-batch.

EnsLoss (Dai, ICML 2025) never fixes a loss: at every SGD step it draws a
random loss-derivative that is non-decreasing in the margin, negative and
decaying for margins above 1, i.e. the derivative of a convex,
classification-calibrated, bounded-below margin loss, and takes the step with
it. One training run therefore ensembles infinitely many calibrated losses,
which the paper shows overfits less than any single fixed loss, the more so
the deeper the network. The fixed losses ``"logistic"``, ``"hinge"`` and
``"exponential"`` train the same network as baselines.

Read more in the :ref:`User Guide <ensloss>`.

Parameters
----------
loss : {"ensloss", "logistic", "hinge", "exponential"}, default="ensloss"
    ``"ensloss"`` draws a random calibrated derivative per mini-batch (and per
    member and one-vs-rest column); the others are fixed margin losses
    ``log(1 + exp(-z))``, ``max(0, 1 - z)`` and ``exp(-z)``.
backbone : {"mlp", "tabm"}, default="mlp"
    ``"mlp"`` is the paper's tabular network: one block
    ``Linear -> ReLU -> BatchNorm1d`` per entry of ``hidden_layer_sizes``, then
    a linear output. ``"tabm"`` is a TabM network with ``k`` members, each
    trained with its own random derivative: a combination not published
    anywhere, offered as an experiment.
hidden_layer_sizes : array-like of int, default=(1024,)
    Width of each hidden block. The paper uses 1, 3 or 5 blocks of width 1024.
    With ``backbone="tabm"`` all widths must be equal (TabM's block width).
k : int, default=32
    Number of TabM members (``backbone="tabm"`` only).
dropout : float, default=0.1
    Dropout of the TabM blocks (``backbone="tabm"`` only; the paper's MLP has
    none).
boxcox_lambda : float, default=0.0
    Exponent of the inverse Box-Cox transform in the derivative generator;
    0 draws negative log-normal values, as every reported result of the paper.
lambda_redraw_period : int, default=None
    If set, lambda is redrawn uniformly in [-1, 1) every this many epochs
    (the paper's code option, found not significant in its ablation).
multi_class : {"ovr", "ovo"}, default="ovr"
    Multi-class strategy (the paper is binary only). ``"ovr"``: one network
    with one margin per class, each trained as class-vs-rest. ``"ovo"``: one
    binary network per pair of classes, the paper's own CIFAR protocol.
    Neither is proven consistent for random losses.
optimizer : {"sgd", "adamw"}, default="sgd"
    The paper trains with SGD and momentum 0.9.
learning_rate : float, default=1e-4
    Initial learning rate (the paper's tabular value).
momentum : float, default=0.9
    SGD momentum.
weight_decay : float, default=5e-6
    L2 penalty of the optimizer (the paper's tabular value).
lr_schedule : {"cosine", "constant"}, default="cosine"
    Cosine annealing over ``max_iter`` epochs, as the paper, or constant.
batch_size : int or "auto", default="auto"
    Rows per mini-batch; "auto" is the paper's 128 (fewer if the data is
    smaller). The derivative is drawn once per batch, so the batch size also
    sets how many margins share one random loss.
max_iter : int, default=300
    Number of epochs (the paper trains 300 and reports the last one).
early_stopping : bool, default=False
    Stop when the accuracy on an internal validation split has not improved
    for ``n_iter_no_change`` epochs and restore the best epoch's weights.
validation_fraction : float, default=0.1
    Share of the training rows held out for early stopping.
n_iter_no_change : int, default=10
    Patience of early stopping, in epochs.
gradient_clipping : float, default=None
    Clip the gradient norm to this value (the paper clips only the
    exponential loss, at 10).
device : str, default="auto"
    "auto" uses CUDA when available, else the CPU.
random_state : int, RandomState instance or None, default=None
    Seeds the weights, the batch orders and the derivative generator (a
    ``torch.Generator`` of its own, so torch's global stream is left alone).
verbose : int, default=0
    Show a progress bar over epochs when positive.
warm_start : bool, default=False
    Continue training the fitted network(s) instead of starting afresh,
    for ``max_iter`` more epochs; the cosine schedule restarts from
    ``learning_rate``. The training loop takes the current ``max_iter``,
    ``learning_rate``, ``momentum``, ``weight_decay``, ``lr_schedule``,
    ``batch_size``, ``n_iter_no_change``, ``gradient_clipping``,
    ``lambda_redraw_period`` and ``verbose``; other parameters (besides
    ``random_state``) must not change in between.

Attributes
----------
classes_ : ndarray of shape (n_classes,)
    The class labels.
n_features_in_ : int
    Number of features seen during fit.
feature_names_in_ : ndarray of shape (n_features_in_,)
    Names of the features seen during fit, when X has string column names.
net_ : EnsembleNet
    The trained skorch network (absent with ``multi_class="ovo"`` and more
    than two classes).
estimators_ : list of EnsLossClassifier
    With ``multi_class="ovo"`` and more than two classes: one binary
    classifier per pair of classes in ``pairs_``.
pairs_ : list of tuple of int
    Class-index pairs ``(i, j)`` of ``estimators_`` (a positive margin means
    class ``j``).
device_ : torch.device
    The device the network was trained on.
batch_size_ : int
    The batch size used.
n_iter_ : int
    Number of epochs run.
loss_curve_ : list of float
    Mean training loss of every epoch (for ``"ensloss"`` the surrogate's value,
    which only its gradient gives meaning to); None for one-vs-one.
validation_scores_ : list of float
    Validation accuracy of every epoch when early stopping; None for
    one-vs-one.

See Also
--------
sklearn.neural_network.MLPClassifier : An MLP trained with the logistic loss.
skensemble.tabm.TabMClassifier : TabM trained with cross-entropy.

References
----------
.. [1] B. Dai, "EnsLoss: Stochastic Calibrated Loss Ensembles for Preventing
   Overfitting in Classification", ICML 2025 (PMLR 267), arXiv:2409.00908.
.. [2] P. L. Bartlett, M. I. Jordan, J. D. McAuliffe, "Convexity,
   Classification, and Risk Bounds", JASA 101(473), 2006.

Examples
--------
>>> from sklearn.datasets import load_breast_cancer
>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.preprocessing import StandardScaler
>>> from skensemble.ensloss import EnsLossClassifier
>>> X, y = load_breast_cancer(return_X_y=True)
>>> model = make_pipeline(
...     StandardScaler(),
...     EnsLossClassifier(hidden_layer_sizes=(64,), learning_rate=1e-2,
...                       max_iter=10, random_state=0),
... ).fit(X, y)
>>> model.predict_proba(X[:2]).shape
(2, 2)
>>> bool(model.score(X, y) > 0.9)
True
"""
