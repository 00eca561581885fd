"""Our TabM layers against the official ``tabm`` module and the closed forms."""

import numpy as np
import pytest
import torch

from skensemble.tabm import (
    PeriodicEmbeddings,
    PiecewiseLinearEmbeddings,
    TabMModule,
    compute_bins,
)
from skensemble.tabm._cost import count_parameters, tabm_parameter_count
from skensemble.tabm._modules import LinearBatchEnsemble, init_scaling_

tabm = pytest.importorskip(
    "tabm", reason="the official tabm package is a test-only dependency"
)
rtdl = pytest.importorskip("rtdl_num_embeddings")

N_NUM, CARDS, K, D_OUT = 5, [3, 4], 4, 2


def _official_embeddings(kind, x):
    if kind == "piecewise":
        bins = rtdl.compute_bins(x, n_bins=8)
        official = rtdl.PiecewiseLinearEmbeddings(
            bins, 8, activation=False, version="B"
        )
        ours = PiecewiseLinearEmbeddings([b.numpy() for b in bins], 8)
        return official, ours
    if kind == "periodic":
        return rtdl.PeriodicEmbeddings(N_NUM, 8, lite=False), PeriodicEmbeddings(
            N_NUM, 8
        )
    return None, None


@pytest.mark.filterwarnings("ignore:When training=False:UserWarning")
@pytest.mark.parametrize("arch", ["tabm", "tabm-mini", "tabm-packed"])
@pytest.mark.parametrize("embedding", [None, "piecewise", "periodic"])
def test_forward_matches_official_tabm_with_the_same_weights(arch, embedding):
    torch.manual_seed(0)
    x_num = torch.randn(64, N_NUM)
    x_cat = torch.stack([torch.randint(0, c, (64,)) for c in CARDS], dim=1)
    official_embed, our_embed = _official_embeddings(embedding, x_num)
    n_blocks = 2 if embedding else 3
    official = tabm.TabM.make(
        n_num_features=N_NUM,
        cat_cardinalities=CARDS,
        d_out=D_OUT,
        k=K,
        d_block=16,
        arch_type=arch,
        num_embeddings=official_embed,
    )
    ours = TabMModule(
        n_num_features=N_NUM,
        cat_cardinalities=CARDS,
        d_out=D_OUT,
        k=K,
        d_block=16,
        n_blocks=n_blocks,
        arch=arch,
        num_embeddings=our_embed,
    )
    with torch.no_grad():  # move every weight off its init (zero-init PWL part too)
        for p in official.parameters():
            p.add_(0.1 * torch.randn_like(p))
    params = dict(official.named_parameters())
    assert set(params) == {name for name, _ in ours.named_parameters()}
    ours.load_state_dict(params, strict=False)
    official.eval()
    ours.eval()
    with torch.no_grad():
        np.testing.assert_allclose(
            ours(x_num, x_cat), official(x_num, x_cat), atol=1e-6
        )
        member_num = x_num[torch.rand(64, K).argsort(0)]
        member_cat = x_cat[torch.rand(64, K).argsort(0)]
        np.testing.assert_allclose(
            ours(member_num, member_cat), official(member_num, member_cat), atol=1e-6
        )


@pytest.mark.parametrize("arch", ["tabm", "tabm-mini", "tabm-packed"])
@pytest.mark.parametrize("d_in,d_block,n_blocks,k", [(8, 512, 3, 32), (13, 64, 2, 8)])
def test_parameter_count_matches_the_formula_and_the_official_module(
    arch, d_in, d_block, n_blocks, k
):
    ours = TabMModule(
        n_num_features=d_in, d_out=1, k=k, d_block=d_block, n_blocks=n_blocks, arch=arch
    )
    official = tabm.TabM.make(
        n_num_features=d_in,
        d_out=1,
        k=k,
        d_block=d_block,
        n_blocks=n_blocks,
        arch_type=arch,
    )
    expected = tabm_parameter_count(
        d_in, 1, k=k, n_blocks=n_blocks, d_block=d_block, arch=arch
    )
    assert count_parameters(ours) == expected == count_parameters(official)


def test_default_tabm_size_is_the_reference_number():
    # the TabM reference: default TabM, 8 numeric features, d_out=1 -> 676,128
    assert tabm_parameter_count(8, 1, k=32, n_blocks=3, d_block=512) == 676_128
    assert (
        tabm_parameter_count(8, 1, k=32, n_blocks=3, d_block=512, arch="tabm-mini")
        == 546_592
    )


def test_first_adapter_is_random_per_feature_chunk_and_the_rest_is_one():
    torch.manual_seed(1)
    layer = LinearBatchEnsemble(
        7, 6, k=5, r_init="random-signs", r_init_chunks=[1, 4, 2]
    )
    r = layer.r.detach()
    assert set(r.unique().tolist()) <= {-1.0, 1.0}
    for start, stop in [(0, 1), (1, 5), (5, 7)]:
        assert torch.all(r[:, start:stop] == r[:, start : start + 1])
    assert torch.all(layer.s == 1)
    assert torch.all(layer.bias == layer.bias[0])  # one shared bias vector at init


def test_init_scaling_rejects_bad_chunks():
    with pytest.raises(ValueError, match="Chunks sum"):
        init_scaling_(torch.empty(2, 5), "normal", [2, 2])


def test_tabm_init_only_the_first_layer_is_random():
    module = TabMModule(n_num_features=3, d_out=1, k=4, d_block=8)
    blocks = module.backbone.blocks
    assert not torch.all(blocks[0][0].r == 1)
    for block in blocks[1:]:
        assert torch.all(block[0].r == 1) and torch.all(block[0].s == 1)


def test_compute_bins_survives_constant_columns_and_few_rows():
    X = np.column_stack([np.arange(5.0), np.full(5, 3.0), [0, 0, 1, 1, 1]])
    bins = compute_bins(X, n_bins=48)
    assert [len(b) for b in bins] == [5, 2, 2]
    for edges in bins:
        assert np.all(np.diff(edges) > 0)
    embedding = PiecewiseLinearEmbeddings(bins, 4)
    out = embedding(torch.as_tensor(X, dtype=torch.float32))
    assert out.shape == (5, 3, 4) and torch.isfinite(out).all()


def test_unknown_category_is_an_all_zero_block():
    module = TabMModule(cat_cardinalities=[2, 3], d_out=1, k=2, d_block=4)
    encoded = module.cat_module(torch.tensor([[2, 0], [1, 3]]))
    assert encoded.tolist() == [[0, 0, 1, 0, 0], [0, 1, 0, 0, 0]]


def test_cpu_dropout_drops_at_rate_p_and_keeps_the_mean():
    from skensemble.tabm._modules import Dropout

    torch.manual_seed(0)
    layer = Dropout(0.1)
    x = torch.ones(200, 32, 64)
    y = layer(x)
    kept = (y != 0).float().mean().item()
    assert abs(kept - 0.9) < 0.005
    assert abs(y.mean().item() - 1.0) < 0.01
    assert torch.all((y == 0) | torch.isclose(y, torch.tensor(1 / 0.9), atol=1e-4))
    layer.eval()
    assert torch.equal(layer(x), x)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_compute_bins_refuses_non_finite_features(bad):
    X = np.column_stack([np.arange(6.0), np.arange(6.0)])
    X[2, 1] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        compute_bins(X)


@pytest.mark.parametrize("n_bins", [0, -3, 2.5, True])
def test_compute_bins_refuses_bad_n_bins(n_bins):
    with pytest.raises(ValueError, match="n_bins"):
        compute_bins(np.arange(10.0).reshape(-1, 1), n_bins=n_bins)


def test_compute_bins_refuses_one_dimensional_input():
    with pytest.raises(ValueError, match="2D"):
        compute_bins(np.arange(10.0))
