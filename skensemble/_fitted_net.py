"""Keep a trained skorch net small and portable once ``fit`` has finished.

Fitted estimators travel: joblib and Dask pickle them back from workers, users
pickle them to disk. Three things in a trained net do not belong in that
pickle:

* ``train_split`` holds the validation rows (a copy of user data);
* a learning-rate scheduler callback keeps a reference to the optimizer, which
  plain pickle then stores a second time beside skorch's own copy;
* ``module`` and ``criterion`` (the instances the net was built with) are the
  same objects as ``module_`` and ``criterion_``, but skorch pickles only the
  trailing-underscore names through its device-mapping path. The plain copy
  doubles the size and, after training on a GPU, holds CUDA tensors that
  cannot be loaded on a machine without one.

A warm start (:func:`continue_training`) rebuilds all of these (a new
``train_split``, new callbacks whose scheduler is made at ``on_train_begin``),
so dropping them changes nothing a later ``fit`` reads.
"""

from skorch.helper import predefined_split

from ._torch import make_generator

_SHARED_WITH_TRAILING = ("module", "criterion")


def release_training_state(net):
    """Drop what only the finished training loop needed; return ``net``."""
    net.train_split = None
    for _, callback in getattr(net, "callbacks_", []):
        if getattr(callback, "lr_scheduler_", None) is not None:
            callback.lr_scheduler_ = None
    # Listed here, the constructor instances go through the same device-mapped
    # pickle as module_/criterion_, so pickle's memo stores each object once.
    net.cuda_dependent_attributes_ = list(
        dict.fromkeys([*net.cuda_dependent_attributes_, *_SHARED_WITH_TRAILING])
    )
    return net


def continue_training(net, valid_data, seed, *, callbacks, lr, **params):
    """Prepare a fitted ``net`` for a warm-started ``partial_fit``.

    The trained module, the optimizer's state (Adam's moments, SGD's momentum)
    and the history are kept; the training-loop settings of the current fit
    are applied: the validation rows ``valid_data`` (or None), batch orders
    drawn from ``seed``, ``max_epochs``, ``batch_size``, the learning rate and
    other ``optimizer__*`` hyper-parameters (set in the optimizer's parameter
    groups in place), and freshly built ``callbacks`` (early stopping,
    clipping, the progress bar, a schedule). A schedule restarts from ``lr``.
    """
    net.set_params(lr=lr, **params)
    for group in net.optimizer_.param_groups:
        if "initial_lr" in group:  # the base rate of a torch LR scheduler
            group["initial_lr"] = lr
    net.train_split = None if valid_data is None else predefined_split(valid_data)
    net.generator = make_generator(seed)
    net.callbacks = callbacks
    net.initialize_callbacks()
    return net
