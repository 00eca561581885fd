"""Parameter and attribute documentation shared by the two TabM estimators."""

COMMON_PARAMETERS = """\
k : int, default=32
    Number of ensemble members trained in parallel inside one network.
arch : {"tabm", "tabm-mini", "tabm-packed"}, default="tabm"
    Which weights are shared. "tabm": BatchEnsemble layers (shared weight
    matrices, non-shared rank-one adapters and biases). "tabm-mini": one
    non-shared scaling of the input, then a fully shared MLP. "tabm-packed":
    k independent MLPs (heavier, for completeness). All use k independent heads.
n_blocks : int or "auto", default="auto"
    Depth of each member; "auto" is 3, or 2 with ``num_embeddings``.
d_block : int, default=512
    Width of each member.
dropout : float, default=0.1
    Dropout rate after every ReLU.
num_embeddings : {None, "piecewise", "periodic"}, default=None
    Embedding of numeric features shared by the members. "piecewise" is the
    paper's TabM-dagger setting (bins computed from the training data;
    constant columns are handled). "periodic" are the PLR embeddings.
d_embedding : int or "auto", default="auto"
    Embedding size per feature; "auto" is 16 (piecewise) or 24 (periodic).
n_bins : int, default=48
    Largest number of quantile bins per feature for piecewise embeddings.
categorical_features : "auto", array-like or None, default="auto"
    Categorical columns, one-hot encoded inside the network (unseen categories
    become all zeros, missing values a category of their own). "auto" takes
    pandas category/object/string columns and string-valued object columns; or
    give a boolean mask, column indices or column names; None means none.
learning_rate : float, default=2e-3
    AdamW learning rate.
weight_decay : float, default=3e-4
    AdamW weight decay.
batch_size : int or "auto", default="auto"
    Rows per member per step. "auto" follows the TabM size rule: 32 below
    2,800 training rows, 64 below 4,500, 128 below 6,400, 256 below 32,000,
    512 below 108,000, else 1024.
max_iter : int, default=1000
    Largest number of epochs.
early_stopping : bool, default=True
    Hold out ``validation_fraction`` of the rows (or use ``eval_set``), score
    the ensemble after every epoch, stop after ``n_iter_no_change`` epochs
    without improvement and restore the best epoch's weights.
validation_fraction : float, default=0.2
    Share of the training rows held out when ``early_stopping`` and no
    ``eval_set`` is given (stratified for classification).
n_iter_no_change : int, default=16
    Patience of early stopping, in epochs.
early_stopping_metric : "auto", "loss" or callable, default="auto"
    "auto" is the paper's choice ({auto_metric}); "loss" the mean
    per-member validation loss; a callable ``metric(y_true, y_pred)`` gets the
    decoded targets and predictions and must return a score where higher is
    better.
gradient_clipping : float or None, default=1.0
    Largest gradient norm; None disables clipping.
share_training_batches : bool, default=False
    If False (the paper's setting), every member sees its own random order
    of the rows; if True all members see the same batches (cheaper).
device : str, default="auto"
    "auto" (CUDA if available, else CPU), "cpu", "cuda", "cuda:N" or "mps".
random_state : int, RandomState instance or None, default=None
    Seeds the validation split, preprocessing noise, initialisation, dropout
    and batch orders. Results are reproducible on CPU for a fixed seed.
verbose : int, default=0
    Show a progress bar with the loss and validation score when > 0.
warm_start : bool, default=False
    If True, ``fit`` continues training the fitted network (same
    preprocessing and target scaling) for up to ``max_iter`` more epochs.
    The training loop takes the current ``max_iter``, ``learning_rate``,
    ``weight_decay``, ``batch_size``, ``n_iter_no_change``,
    ``gradient_clipping`` and ``verbose``; other parameters (besides
    ``random_state``) must not change in between."""

COMMON_ATTRIBUTES = """\
n_features_in_ : int
    Number of features seen during fit.
feature_names_in_ : ndarray of shape (`n_features_in_`,)
    Names of the features seen during fit, when X has string column names.
device_ : torch.device
    The device training ran on.
net_ : skensemble._skorch.EnsembleNet
    The trained skorch network; ``net_.module_`` is the torch module and
    ``net_.history`` the per-epoch history.
batch_size_ : int
    The batch size used.
n_iter_ : int
    Number of epochs run.
loss_curve_ : list of float
    Mean training loss of each epoch.
validation_scores_ : list of float
    Validation score of each epoch (empty without early stopping).
best_validation_score_ : float
    Best validation score (only with early stopping).
best_iteration_ : int
    The epoch (1-based) whose weights were kept (only with early stopping)."""

REFERENCES = """\
.. [1] Y. Gorishniy, A. Kotelnikov, A. Babenko. "TabM: Advancing Tabular Deep
   Learning with Parameter-Efficient Ensembling". ICLR 2025.
.. [2] Y. Wen, D. Tran, J. Ba. "BatchEnsemble: An Alternative Approach to
   Efficient Ensemble and Lifelong Learning". ICLR 2020."""
