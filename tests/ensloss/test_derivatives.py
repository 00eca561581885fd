"""The derivative generator obeys the calibration conditions and the paper's code."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skensemble.ensloss import (
    EnsLossSurrogate,
    ExponentialLoss,
    HingeLoss,
    LogisticLoss,
    draw_calibrated_derivatives,
    inverse_boxcox,
)

LOWEST = -1.0 - 1.5e-6  # the clip at -1 minus the 1e-6 shift, in float32


def margin_batches():
    shapes = st.tuples(st.integers(1, 200), st.integers(1, 3))
    values = st.floats(-50, 50, allow_nan=False, width=32)
    return shapes.flatmap(lambda shape: arrays(np.float32, shape, elements=values))


DRAW_ARGUMENTS = dict(
    margins=margin_batches(),
    boxcox_lambda=st.one_of(st.just(0.0), st.floats(-2.0, 2.0)),
    seed=st.integers(0, 2**31 - 1),
)


def reference_derivatives(margins, xi, boxcox_lambda):
    """The EnsLoss code's steps for one column, in numpy (ranks by stable sort)."""
    xi = xi.astype(np.float64)
    if boxcox_lambda == 0.0:
        r = -np.exp(xi)
    else:
        with np.errstate(divide="ignore"):
            r = -(np.maximum(1.0 + boxcox_lambda * xi, 0.0) ** (1.0 / boxcox_lambda))
    r = np.maximum(np.sort(r), -1.0).astype(np.float32)
    g = np.empty_like(margins)
    g[np.argsort(margins, kind="stable")] = r
    g = np.divide(g, margins, out=g.copy(), where=margins > 1.0)
    return g - np.float32(1e-6)


@settings(max_examples=150, deadline=None)
@given(**DRAW_ARGUMENTS)
def test_every_draw_is_a_calibrated_derivative(margins, boxcox_lambda, seed):
    z = torch.from_numpy(margins)
    generator = torch.Generator().manual_seed(seed)
    g = draw_calibrated_derivatives(
        z, boxcox_lambda=boxcox_lambda, generator=generator
    ).numpy()
    assert g.shape == margins.shape
    assert (g < 0).all(), "phi'(z) < 0 everywhere, so phi'(0) < 0"
    assert (g >= LOWEST).all()
    for column in range(margins.shape[1]):
        zc, gc = margins[:, column], g[:, column]
        smaller_margin = zc[:, None] < zc[None, :]
        assert (gc[:, None] <= gc[None, :])[smaller_margin].all(), "non-decreasing"
        tail = zc > 1.0
        assert (np.abs(gc[tail]) <= 1.0 / zc[tail] + 2e-6).all(), "decays as 1/z"


@settings(max_examples=60, deadline=None)
@given(**DRAW_ARGUMENTS)
def test_draws_match_the_paper_code_step_by_step(margins, boxcox_lambda, seed):
    margins = margins + np.arange(len(margins), dtype=np.float32)[:, None] * 1e-3
    g = draw_calibrated_derivatives(
        torch.from_numpy(margins),
        boxcox_lambda=boxcox_lambda,
        generator=torch.Generator().manual_seed(seed),
    ).numpy()
    xi = torch.randn(margins.shape, generator=torch.Generator().manual_seed(seed))
    for column in range(margins.shape[1]):
        expected = reference_derivatives(
            margins[:, column], xi[:, column].numpy(), boxcox_lambda
        )
        if len(np.unique(margins[:, column])) == len(margins):
            np.testing.assert_allclose(g[:, column], expected, rtol=1e-6, atol=1e-7)


def test_half_of_a_large_batch_is_clipped_at_minus_one():
    # median(-exp(xi)) = -1: the lower-margin half gets the hinge-like slope -1.
    z = torch.linspace(-3, 0.5, 4000)
    g = draw_calibrated_derivatives(z, generator=torch.Generator().manual_seed(0))
    clipped = torch.isclose(g, torch.tensor(-1.0 - 1e-6)).float().mean().item()
    assert 0.45 < clipped < 0.55
    assert torch.isclose(g[:1000], torch.tensor(-1.0 - 1e-6)).float().mean() > 0.99


def test_negative_lambda_overflow_is_clipped():
    x = torch.tensor([5.0, 0.0])
    assert torch.isinf(inverse_boxcox(x, -0.5))[0]
    margins = torch.tensor([0.0, 1.0])
    g = draw_calibrated_derivatives(
        margins, boxcox_lambda=-5.0, generator=torch.Generator().manual_seed(0)
    )
    assert torch.isfinite(g).all() and (g >= LOWEST).all()
    assert torch.allclose(inverse_boxcox(x, 0.0), torch.exp(x))
    assert torch.allclose(inverse_boxcox(torch.tensor([1.0]), 1.0), torch.tensor([2.0]))


def test_same_generator_seed_same_draw_and_global_stream_untouched():
    z = torch.randn(64)
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = draw_calibrated_derivatives(z, generator=torch.Generator().manual_seed(7))
    b = draw_calibrated_derivatives(z, generator=torch.Generator().manual_seed(7))
    c = draw_calibrated_derivatives(z, generator=torch.Generator().manual_seed(8))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert torch.equal(before, torch.get_rng_state())


@pytest.mark.parametrize("n_columns", [1, 3])
@pytest.mark.parametrize("batch", [1, 7, 128])
def test_autograd_gradient_is_the_drawn_derivative_over_batch_size(n_columns, batch):
    logits = torch.randn(batch, 1, n_columns, requires_grad=True)
    y = torch.randint(0, 2 if n_columns == 1 else n_columns, (batch, 1))
    criterion = EnsLossSurrogate(n_columns, generator=torch.Generator().manual_seed(3))
    criterion(logits, y).mean().backward()

    if n_columns == 1:
        signs = (2.0 * y - 1.0).unsqueeze(-1)
    else:
        signs = 2.0 * torch.nn.functional.one_hot(y, n_columns).float() - 1.0
    margins = (signs * logits.detach()).flatten(1)
    g = draw_calibrated_derivatives(
        margins, generator=torch.Generator().manual_seed(3)
    ).view_as(logits)
    # d(mean)/d(loss_i) = 1/B, d(g z)/dz = g, dz/dlogit = y: the same float ops.
    assert torch.equal(logits.grad, (torch.tensor(1.0 / batch) * g) * signs)
    torch.testing.assert_close(logits.grad, g * signs / batch, rtol=1e-6, atol=0)


def test_members_draw_independent_derivatives():
    logits = torch.zeros(50, 4, 1, requires_grad=True)
    y = torch.ones(50, 4, dtype=torch.long)
    criterion = EnsLossSurrogate(1, generator=torch.Generator().manual_seed(0))
    per_member = criterion(logits, y)
    assert per_member.shape == (50, 4)
    per_member.sum().backward()
    assert not torch.equal(logits.grad[:, 0], logits.grad[:, 1])


@pytest.mark.parametrize(
    ("criterion", "phi"),
    [
        (LogisticLoss(1), lambda z: np.log1p(np.exp(-z))),
        (HingeLoss(1), lambda z: np.maximum(0.0, 1.0 - z)),
        (ExponentialLoss(1), lambda z: np.exp(-z)),
    ],
)
def test_fixed_losses_are_the_margin_losses(criterion, phi):
    logits = torch.tensor([[[-2.0]], [[0.0]], [[0.5]], [[3.0]]])
    y = torch.tensor([[1], [0], [1], [0]])
    z = np.array([-2.0, 0.0, 0.5, -3.0])
    np.testing.assert_allclose(criterion(logits, y)[:, 0].numpy(), phi(z), rtol=1e-6)


def test_one_vs_rest_sums_the_class_columns():
    logits = torch.tensor([[[1.0, -1.0, 0.5]]])
    y = torch.tensor([[2]])
    expected = np.maximum(0, 1 + 1.0) + np.maximum(0, 1 - 1.0) + np.maximum(0, 0.5)
    assert HingeLoss(3)(logits, y).item() == pytest.approx(expected)
