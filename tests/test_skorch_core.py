"""The shared skorch training core (``skensemble/_skorch.py``) on its own."""

import types

import torch
from skorch.history import History

from skensemble._skorch import ValidationScore
from skensemble.ensloss._training import margin_accuracy


class _DeviceTensor(torch.Tensor):
    """Stands in for a CUDA tensor: no ``numpy()`` until moved by ``cpu()``."""

    def numpy(self, *args, **kwargs):
        raise TypeError("can't convert cuda:0 device type tensor to numpy")

    def cpu(self, *args, **kwargs):
        return self.as_subclass(torch.Tensor)


def _on_device(tensor):
    return tensor.as_subclass(_DeviceTensor)


def test_validation_scores_receive_cpu_tensors():
    seen = []

    def score(y_pred, y_true):
        seen.append((type(y_pred), type(y_true)))
        return margin_accuracy(y_pred, y_true)

    net = types.SimpleNamespace(history=History())
    net.history.new_epoch()
    callback = ValidationScore(score)
    callback.on_epoch_begin(net)
    margins = torch.tensor([[[2.0], [1.0]], [[-1.0], [-3.0]], [[0.5], [-0.2]]])
    labels = torch.tensor([[1], [0], [0]])
    for rows in (slice(0, 2), slice(2, 3)):
        batch = (None, {"y": _on_device(labels[rows])})
        callback.on_batch_end(
            net, batch, training=False, y_pred=_on_device(margins[rows])
        )
    callback.on_epoch_end(net)
    assert seen == [(torch.Tensor, torch.Tensor)]
    # The third row's members disagree; their mean margin 0.15 says class 1.
    assert net.history[-1, "valid_score"] == 2 / 3
