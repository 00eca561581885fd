"""What TabMRegressor and TabMClassifier share: parameters, data, training loop."""

import functools
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    check_is_fitted,
    validate_data,
)
from skorch.helper import predefined_split

from .._distributed import shared_random_state
from .._fitted_net import continue_training, release_training_state
from .._skorch import (
    EnsembleNet,
    TensorData,
    history_arrays,
    training_callbacks,
)
from .._torch import (
    as_tensor,
    check_device,
    draw_seed,
    make_generator,
    resolve_device,
    seeded,
    worker_threads,
)
from .._validation import (
    check_sample_weight,
    check_warm_start_params,
    holdout_split,
)
from ._embeddings import PeriodicEmbeddings, PiecewiseLinearEmbeddings, compute_bins
from ._modules import TabMModule
from ._preprocessing import TabularPreprocessor, detect_categorical

EVAL_BATCH_SIZE = 1024
# The training-loop parameters a warm start applies to the continued network;
# every other parameter is built into the network, its inputs or its history.
WARM_START_APPLIED = (
    "max_iter",
    "learning_rate",
    "weight_decay",
    "batch_size",
    "n_iter_no_change",
    "gradient_clipping",
)


def auto_batch_size(n_train):
    """TabM batch-size rule (as pytabkit and AutoGluon): 32 below 2.8K rows to 1024."""
    for limit, size in ((2_800, 32), (4_500, 64), (6_400, 128), (32_000, 256)):
        if n_train < limit:
            return size
    return 512 if n_train < 108_000 else 1024


class BaseTabM(BaseEstimator):
    """Parameters and training shared by the TabM estimators (not public).

    Subclasses provide the task: ``_d_out``, ``_encode_targets(y, fitting)``,
    ``_decode_targets(y)``, ``_criterion()``, ``_auto_score()`` (the score
    function and whether lower is better) and ``_predict_from_raw(outputs)``.
    """

    _parameter_constraints = {
        "k": [Interval(Integral, 1, None, closed="left")],
        "arch": [StrOptions({"tabm", "tabm-mini", "tabm-packed"})],
        "n_blocks": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "d_block": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0.0, 1.0, closed="left")],
        "num_embeddings": [StrOptions({"piecewise", "periodic"}), None],
        "d_embedding": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "n_bins": [Interval(Integral, 2, None, closed="left")],
        "categorical_features": ["array-like", StrOptions({"auto"}), None],
        "learning_rate": [Interval(Real, 0.0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0.0, None, closed="left")],
        "batch_size": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0.0, 1.0, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping_metric": [StrOptions({"auto", "loss"}), callable],
        "gradient_clipping": [Interval(Real, 0.0, None, closed="neither"), None],
        "share_training_batches": ["boolean"],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        *,
        k=32,
        arch="tabm",
        n_blocks="auto",
        d_block=512,
        dropout=0.1,
        num_embeddings=None,
        d_embedding="auto",
        n_bins=48,
        categorical_features="auto",
        learning_rate=2e-3,
        weight_decay=3e-4,
        batch_size="auto",
        max_iter=1000,
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=16,
        early_stopping_metric="auto",
        gradient_clipping=1.0,
        share_training_batches=False,
        device="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
    ):
        self.k = k
        self.arch = arch
        self.n_blocks = n_blocks
        self.d_block = d_block
        self.dropout = dropout
        self.num_embeddings = num_embeddings
        self.d_embedding = d_embedding
        self.n_bins = n_bins
        self.categorical_features = categorical_features
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping_metric = early_stopping_metric
        self.gradient_clipping = gradient_clipping
        self.share_training_batches = share_training_batches
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    # -- data -------------------------------------------------------------------------
    def _validate_X(self, X, reset):
        dtype = None if self.categorical_mask_.any() else np.float64
        return validate_data(self, X, reset=reset, dtype=dtype, ensure_all_finite=False)

    def _model_inputs(self, X):
        x_num, x_cat = self.preprocessor_.transform(X)
        inputs = {"x_num": as_tensor(x_num, self.device_)}
        if x_cat is not None:
            inputs["x_cat"] = as_tensor(x_cat, self.device_, dtype=torch.long)
        return inputs

    def _tensor_data(self, X, y, sample_weight):
        target_dtype = torch.long if y.dtype.kind in "iu" else torch.float32
        weight = None
        if sample_weight is not None:
            weight = as_tensor(sample_weight, self.device_)
        return TensorData(
            self._model_inputs(X), as_tensor(y, self.device_, target_dtype), weight
        )

    def _split(self, X, y, sample_weight, eval_set, random_state, stratify):
        if not self.early_stopping:
            return (X, y, sample_weight), None
        if eval_set is not None:
            X_val, y_val = eval_set
            X_val = self._validate_X(X_val, reset=False)
            return (X, y, sample_weight), (X_val, np.asarray(y_val), None)
        return holdout_split(
            X, y, sample_weight, self.validation_fraction, random_state, stratify
        )

    # -- model ------------------------------------------------------------------------
    def _n_blocks(self):
        if self.n_blocks != "auto":
            return self.n_blocks
        return 2 if self.num_embeddings is not None else 3

    def _embeddings(self, x_num):
        # With only categorical columns there is nothing to embed.
        if self.num_embeddings is None or x_num.shape[1] == 0:
            return None
        if self.num_embeddings == "piecewise":
            d_embedding = 16 if self.d_embedding == "auto" else self.d_embedding
            bins = compute_bins(x_num, n_bins=self.n_bins)
            return PiecewiseLinearEmbeddings(bins, d_embedding)
        d_embedding = 24 if self.d_embedding == "auto" else self.d_embedding
        return PeriodicEmbeddings(x_num.shape[1], d_embedding)

    def _build_module(self, x_num, d_out):
        return TabMModule(
            n_num_features=x_num.shape[1],
            cat_cardinalities=self.preprocessor_.cardinalities_,
            d_out=d_out,
            k=self.k,
            arch=self.arch,
            n_blocks=self._n_blocks(),
            d_block=self.d_block,
            dropout=self.dropout,
            num_embeddings=self._embeddings(x_num),
        )

    def _score_callback(self):
        if not self.early_stopping:
            return None, True
        if self.early_stopping_metric == "auto":
            return self._auto_score()
        if self.early_stopping_metric == "loss":
            return functools.partial(_mean_member_loss, self._criterion()), True
        return (
            functools.partial(_user_metric, self.early_stopping_metric, self),
            False,
        )

    # -- fit --------------------------------------------------------------------------
    def _fit(self, X, y, sample_weight, eval_set, *, is_classifier):
        check_device(self.device)
        continuing = self.warm_start and hasattr(self, "net_")
        check_warm_start_params(self, continuing, WARM_START_APPLIED)
        if not continuing:
            self.categorical_mask_ = detect_categorical(X, self.categorical_features)
        dtype = None if self.categorical_mask_.any() else np.float64
        X, y = validate_data(
            self,
            X,
            y,
            reset=not continuing,
            dtype=dtype,
            ensure_all_finite=False,
            multi_output=not is_classifier,
            y_numeric=not is_classifier,
        )
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X, dtype=np.float32)
        random_state = shared_random_state(self.random_state)
        y_model = self._encode_targets(y, fitting=not continuing)
        if eval_set is not None:
            if not (isinstance(eval_set, (tuple, list)) and len(eval_set) == 2):
                raise ValueError(
                    f"eval_set must be a pair (X_val, y_val); got a "
                    f"{type(eval_set).__name__}."
                )
            eval_set = (eval_set[0], self._encode_targets(eval_set[1], fitting=False))
        train, valid = self._split(
            X,
            y_model,
            sample_weight,
            eval_set,
            random_state,
            stratify=y_model if is_classifier else None,
        )
        if not continuing:
            self.device_ = resolve_device(self.device)
            self.preprocessor_ = TabularPreprocessor(
                self.categorical_mask_,
                random_state,
                getattr(self, "feature_names_in_", None),
            ).fit(train[0])
        train_data = self._tensor_data(*train)
        valid_data = None if valid is None else self._tensor_data(*valid)
        seed = draw_seed(random_state)
        with seeded(seed, self.device_), worker_threads():
            if not continuing:
                self.net_ = self._make_net(train_data, valid_data, seed)
                self.net_.initialize()
            else:
                params = self._training_params(train_data)
                continue_training(self.net_, valid_data, seed, **params)
            self.net_.partial_fit(train_data)
        release_training_state(self.net_)
        self.loss_curve_, self.validation_scores_, self.n_iter_ = history_arrays(
            self.net_
        )
        if self.validation_scores_:
            best = (min if self._lower_is_better else max)(self.validation_scores_)
            self.best_validation_score_ = best
            self.best_iteration_ = self.validation_scores_.index(best) + 1
        return self

    def _make_net(self, train_data, valid_data, seed):
        x_num = train_data.inputs["x_num"].cpu().numpy()
        return EnsembleNet(
            self._build_module(x_num, self._d_out),
            self._criterion(),
            k=self.k,
            member_batches=not self.share_training_batches,
            generator=make_generator(seed),
            optimizer=torch.optim.AdamW,
            optimizer__foreach=True,  # multi-tensor update; torch's CPU default loops
            train_split=None if valid_data is None else predefined_split(valid_data),
            device=self.device_,
            verbose=0,
            **self._training_params(train_data),
        )

    def _training_params(self, train_data):
        """The net's training-loop settings: at the first fit and at a warm start."""
        score_fn, self._lower_is_better = self._score_callback()
        batch_size = self.batch_size
        if batch_size == "auto":
            batch_size = auto_batch_size(len(train_data))
        self.batch_size_ = min(batch_size, len(train_data))
        return dict(
            lr=self.learning_rate,
            optimizer__weight_decay=self.weight_decay,
            max_epochs=self.max_iter,
            batch_size=self.batch_size_,
            callbacks=training_callbacks(
                score_fn=score_fn,
                lower_is_better=self._lower_is_better,
                patience=self.n_iter_no_change,
                gradient_clipping=self.gradient_clipping,
                verbose=self.verbose,
                max_epochs=self.max_iter,
                name=type(self).__name__,
            ),
        )

    # -- predict ----------------------------------------------------------------------
    def _member_outputs(self, X):
        """Raw ``(n, k, d_out)`` network outputs as float64 numpy."""
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        data = TensorData(self._model_inputs(X))
        self.net_.batch_size = max(self.batch_size_, EVAL_BATCH_SIZE)
        try:
            with worker_threads():
                outputs = self.net_.predict_members(data)
        finally:
            self.net_.batch_size = self.batch_size_
        return outputs.numpy().astype(np.float64)

    def __setstate__(self, state):
        super().__setstate__(state)
        net = self.__dict__.get("net_")
        if net is not None:
            # skorch maps a CUDA-trained net to the CPU when CUDA is absent on
            # load; inputs must follow it there.
            self.device_ = torch.device(net.device)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.non_deterministic = self.device != "cpu" and torch.cuda.is_available()
        return tags


def _mean_member_loss(criterion, y_pred, y_true):
    y_true = y_true.unsqueeze(1).expand(len(y_true), y_pred.shape[1], *y_true.shape[1:])
    return criterion(y_pred, y_true).mean().item()


def _user_metric(metric, estimator, y_pred, y_true):
    return metric(
        estimator._decode_targets(y_true.numpy()), estimator._predict_from_raw(y_pred)
    )
