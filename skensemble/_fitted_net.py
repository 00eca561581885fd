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

A warm start rebuilds all of these (a new ``train_split``, a new scheduler at
``on_train_begin``), so dropping them changes nothing a later ``fit`` reads.
"""

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
