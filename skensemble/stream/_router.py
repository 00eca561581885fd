"""The DriftMoE router: a small MLP that scores experts, trained in mini-batches.

The per-instance scoring runs in numpy on a float32 mirror of the weights: the
weights change only once per ``batch_size`` instances, and a numpy forward of a
single row costs a fraction of a torch call. The loss is computed by one batched
torch forward over the buffered inputs at each router step, which gives the same
gradient as keeping the per-instance graphs (all of them used the same weights).
"""

import contextlib

import numpy as np
import torch
from torch import nn

from .._torch import as_tensor, make_generator, seeded


@contextlib.contextmanager
def _single_thread():
    """Run a block with one intra-op torch thread, then restore the setting.

    A router batch is a few hundred rows through a few hundred units: thread
    hand-offs cost more than the arithmetic, and on a busy machine they made a
    step a hundred times slower.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class RouterMLP(nn.Module):
    """``Linear -> ReLU (-> Dropout) ... -> Linear`` with Xavier-uniform weights.

    Dropout follows every hidden layer but the last, which for ``(256, 128)`` is
    the paper's ``Linear-ReLU-Dropout-Linear-ReLU-Linear``. Dropout draws from an
    explicit generator so a router step is reproducible from its step number.
    """

    def __init__(self, n_inputs, hidden, n_outputs, dropout):
        super().__init__()
        sizes = [n_inputs, *hidden, n_outputs]
        self.layers = nn.ModuleList(
            nn.Linear(n_in, n_out) for n_in, n_out in zip(sizes[:-1], sizes[1:])
        )
        self.dropout = dropout
        for layer in self.layers:
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, inputs, dropout_generator=None):
        hidden = inputs
        n_hidden = len(self.layers) - 1
        for index, layer in enumerate(self.layers[:-1]):
            hidden = torch.relu(layer(hidden))
            if (
                dropout_generator is not None
                and self.dropout > 0
                and index < n_hidden - 1
            ):
                keep = torch.rand(
                    hidden.shape, generator=dropout_generator, device=hidden.device
                )
                hidden = hidden * (keep >= self.dropout) / (1.0 - self.dropout)
        return self.layers[-1](hidden)


class Router:
    """Scores experts per instance and learns from buffered BCE targets.

    Parameters
    ----------
    n_inputs, n_outputs : int
        Input features and scored experts (or classes in MoE-Task).
    hidden : tuple of int
        Hidden layer widths.
    dropout : float
        Dropout rate used in the loss forward of each router step.
    learning_rate : float
        Adam learning rate.
    batch_size : int
        Instances per router step.
    seed : int
        Seeds the weight initialisation and every step's dropout draw.
    device : torch.device
        Where the weights live and the router steps run.
    """

    def __init__(
        self,
        n_inputs,
        n_outputs,
        hidden,
        dropout,
        learning_rate,
        batch_size,
        seed,
        device,
    ):
        self.batch_size = batch_size
        self.seed = seed
        self.device = device
        with seeded(seed, device):
            self.module = RouterMLP(n_inputs, hidden, n_outputs, dropout).to(device)
        self.optimizer = torch.optim.Adam(self.module.parameters(), lr=learning_rate)
        self.loss = nn.BCEWithLogitsLoss()
        self.n_steps = 0
        self.last_loss = None
        self.inputs = []
        self.targets = []
        self.weights_buffer = []
        self._refresh_mirror()

    def _refresh_mirror(self):
        self.weights = [
            (
                layer.weight.detach().cpu().numpy().copy(),
                layer.bias.detach().cpu().numpy().copy(),
            )
            for layer in self.module.layers
        ]

    def scores(self, inputs):
        """Router logits (eval mode, no dropout) for one float32 row."""
        hidden = inputs
        for weight, bias in self.weights[:-1]:
            hidden = weight @ hidden
            hidden += bias
            np.maximum(hidden, 0.0, out=hidden)
        weight, bias = self.weights[-1]
        return weight @ hidden + bias

    def torch_scores(self, inputs):
        """The same logits from the torch module, for rows of ``inputs``."""
        with torch.no_grad():
            logits = self.module(as_tensor(inputs, self.device))
        return logits.cpu().numpy()

    def record(self, inputs, target, weight=1.0):
        """Buffer one (input, target, weight); take a step when the buffer is full."""
        self.inputs.append(inputs)
        self.targets.append(target)
        self.weights_buffer.append(weight)
        if len(self.inputs) == self.batch_size:
            self.step()

    def _batch_loss(self, logits, targets):
        """Mean BCE over the batch; with sample weights, a weighted mean of rows."""
        if all(weight == 1.0 for weight in self.weights_buffer):
            return self.loss(logits, targets)
        weights = torch.as_tensor(
            self.weights_buffer, dtype=logits.dtype, device=logits.device
        )
        per_row = nn.functional.binary_cross_entropy_with_logits(
            logits, targets, reduction="none"
        ).mean(dim=1)
        return (per_row * weights).sum() / weights.sum()

    def step(self):
        inputs = as_tensor(np.stack(self.inputs), self.device)
        targets = as_tensor(np.stack(self.targets), self.device)
        generator = make_generator(self.seed + 1 + self.n_steps, self.device)
        with _single_thread():
            logits = self.module(inputs, dropout_generator=generator)
            loss = self._batch_loss(logits, targets)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
        self.last_loss = float(loss.detach())
        self.n_steps += 1
        self.inputs.clear()
        self.targets.clear()
        self.weights_buffer.clear()
        self._refresh_mirror()


class OnlineStandardizer:
    """Running mean and variance (Welford; West's form with weights) of router inputs.

    ``transform`` uses the statistics of the instances seen so far, excluding the
    current one, so the test step and the train step of an instance see the same
    router input. Features with no spread yet are only centred. Weights count as
    frequencies: ``count`` is the total weight, and a weight of 1 gives exactly
    the unweighted arithmetic.
    """

    def __init__(self, n_features):
        self.count = 0
        self.mean = np.zeros(n_features)
        self.sum_squares = np.zeros(n_features)

    def transform(self, row):
        if self.count < 2:
            return row - self.mean
        std = np.sqrt(self.sum_squares / (self.count - 1))
        std[std < 1e-12] = 1.0
        return (row - self.mean) / std

    def update(self, row, weight=1.0):
        self.count += weight
        delta = row - self.mean
        self.mean += delta * weight / self.count
        self.sum_squares += weight * delta * (row - self.mean)
