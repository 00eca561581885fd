"""TabM's torch layers: k implicit MLPs that share most of their weights.

Every ensemble layer maps ``(batch, k, d_in)`` to ``(batch, k, d_out)``. Parameter
names mirror the official ``tabm`` package (``backbone.blocks.{i}.0.r`` ...), so a
state dict of the official ``TabM`` module loads into :class:`TabMModule` as is.

References
----------
Gorishniy, Kotelnikov, Babenko. "TabM: Advancing Tabular Deep Learning with
Parameter-Efficient Ensembling". ICLR 2025.
Wen, Tran, Ba. "BatchEnsemble: An Alternative Approach to Efficient Ensemble and
Lifelong Learning". ICLR 2020.
"""

import torch
from torch import nn
from torch.nn import functional as F

SCALING_INITS = ("ones", "random-signs", "normal")


def _uniform_rsqrt_(tensor, fan_in):
    bound = fan_in**-0.5
    return nn.init.uniform_(tensor, -bound, bound)


@torch.no_grad()
def init_scaling_(tensor, distribution, chunks=None):
    """Initialise ensemble scaling parameters of shape ``(k, d)`` in place.

    With ``chunks`` (the representation size of each input feature), all
    entries of one member that belong to the same feature share one random
    value: TabM's per-feature initialisation of the first adapter.
    """
    if distribution not in SCALING_INITS:
        raise ValueError(f"Unknown scaling initialisation {distribution!r}.")
    if distribution == "ones":
        return tensor.fill_(1.0)
    n_draws = tensor.shape[-1] if chunks is None else len(chunks)
    draws = torch.empty(*tensor.shape[:-1], n_draws, dtype=tensor.dtype)
    if distribution == "normal":
        draws.normal_()
    else:
        draws.bernoulli_(0.5).mul_(2).sub_(1)
    if chunks is not None:
        if sum(chunks) != tensor.shape[-1]:
            raise ValueError(
                f"Chunks sum to {sum(chunks)} but the tensor has {tensor.shape[-1]} "
                "columns."
            )
        sizes = torch.as_tensor(chunks)
        draws = draws.repeat_interleave(sizes, dim=-1)
    return tensor.copy_(draws)


class LinearBatchEnsemble(nn.Module):
    """BatchEnsemble linear layer: ``((x * r) @ W.T) * s + bias`` per member.

    ``W`` is shared; ``r`` (k, in), ``s`` (k, out) and ``bias`` (k, out) are the
    non-shared "adapters". All members start from the same bias vector.
    """

    def __init__(
        self,
        in_features,
        out_features,
        *,
        k,
        r_init="ones",
        s_init="ones",
        r_init_chunks=None,
        bias=True,
    ):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.k = k
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.r = nn.Parameter(torch.empty(k, in_features))
        self.s = nn.Parameter(torch.empty(k, out_features))
        self.bias = nn.Parameter(torch.empty(k, out_features)) if bias else None
        self._r_init = r_init
        self._s_init = s_init
        self._r_init_chunks = r_init_chunks
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self):
        _uniform_rsqrt_(self.weight, self.in_features)
        init_scaling_(self.r, self._r_init, self._r_init_chunks)
        init_scaling_(self.s, self._s_init)
        if self.bias is not None:
            shared = _uniform_rsqrt_(torch.empty(self.out_features), self.in_features)
            self.bias.copy_(shared.expand(self.k, -1))

    def forward(self, x):
        x = F.linear(x * self.r, self.weight)
        if self.bias is None:
            return x * self.s
        return torch.addcmul(self.bias, x, self.s)


class LinearEnsemble(nn.Module):
    """k fully independent linear layers applied in parallel (TabM's heads)."""

    def __init__(self, in_features, out_features, *, k, bias=True):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.k = k
        self.weight = nn.Parameter(torch.empty(k, in_features, out_features))
        self.bias = nn.Parameter(torch.empty(k, out_features)) if bias else None
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self):
        _uniform_rsqrt_(self.weight, self.in_features)
        if self.bias is not None:
            _uniform_rsqrt_(self.bias, self.in_features)

    def forward(self, x):
        x = x.transpose(0, 1)
        if self.bias is None:
            x = torch.bmm(x, self.weight)
        else:
            x = torch.baddbmm(self.bias.unsqueeze(1), x, self.weight)
        return x.transpose(0, 1)


class ScaleEnsemble(nn.Module):
    """Non-shared elementwise scaling ``x * weight`` with ``weight`` of shape (k, d).

    This is TabM-mini's only non-shared part before the shared MLP.
    """

    def __init__(self, k, d, *, init="random-signs", init_chunks=None):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(k, d))
        self._init = init
        self._init_chunks = init_chunks
        self.reset_parameters()

    def reset_parameters(self):
        init_scaling_(self.weight, self._init, self._init_chunks)

    def forward(self, x):
        return x * self.weight


class OneHotEncoding(nn.Module):
    """One-hot encode integer categories; the code ``cardinality`` means unknown.

    Unknown (unseen at fit) categories become an all-zeros block, as in the
    TabM paper's code.
    """

    def __init__(self, cardinalities):
        super().__init__()
        self.cardinalities = list(cardinalities)

    def forward(self, x):
        return torch.cat(
            [
                F.one_hot(x[..., i], n + 1)[..., :n]
                for i, n in enumerate(self.cardinalities)
            ],
            dim=-1,
        )


class Dropout(nn.Dropout):
    """Dropout whose CPU mask costs a quarter of the random draws.

    On the CPU, drawing one random number per activation dominates TabM's
    elementwise work. Here each 64-bit draw gives four 15-bit lanes, so the
    drop probability is ``round(p * 2**15) / 2**15`` (within 3e-5 of ``p``)
    and kept units are scaled by the inverse keep rate, as in ``nn.Dropout``.
    Other devices use the native fused kernel.
    """

    def forward(self, x):
        if not self.training or self.p == 0 or x.device.type != "cpu":
            return super().forward(x)
        threshold = round(self.p * 2**15)
        n = x.numel()
        draws = torch.empty((n + 3) // 4, dtype=torch.int64, device=x.device)
        lanes = draws.random_().view(torch.int16)[:n].view(x.shape)
        keep = lanes.bitwise_and_(0x7FFF) >= threshold
        # A float mask: multiply forward and backward, both cheaper than where().
        mask = keep.to(x.dtype).mul_(2**15 / (2**15 - threshold))
        return x * mask


def _make_block(linear, dropout):
    return nn.Sequential(linear, nn.ReLU(), Dropout(dropout))


class TabMBackbone(nn.Module):
    """``n_blocks`` x [ensemble linear -> ReLU -> Dropout] for one TabM variant.

    Parameters
    ----------
    d_in : int
        Flat input representation size.
    k : int
        Number of members.
    arch : {"tabm", "tabm-mini", "tabm-packed"}
        Which parts are non-shared (see :class:`skensemble.tabm.TabMRegressor`).
    n_blocks, d_block, dropout
        Depth, width and dropout rate of each member.
    scaling_init : {"random-signs", "normal"}
        Distribution of the first (and only random) adapter.
    scaling_init_chunks : list of int or None
        Representation size of each input feature; one random value per feature.
    """

    def __init__(
        self,
        *,
        d_in,
        k,
        arch,
        n_blocks,
        d_block,
        dropout,
        scaling_init,
        scaling_init_chunks,
    ):
        super().__init__()
        self.arch = arch
        self.k = k
        self.d_block = d_block
        blocks = []
        for i in range(n_blocks):
            in_features = d_in if i == 0 else d_block
            if arch == "tabm":
                linear = LinearBatchEnsemble(
                    in_features,
                    d_block,
                    k=k,
                    r_init=scaling_init if i == 0 else "ones",
                    r_init_chunks=scaling_init_chunks if i == 0 else None,
                )
            elif arch == "tabm-mini":
                linear = nn.Linear(in_features, d_block)
            elif arch == "tabm-packed":
                linear = LinearEnsemble(in_features, d_block, k=k)
            else:
                raise ValueError(f"Unknown arch {arch!r}.")
            blocks.append(_make_block(linear, dropout))
        self.blocks = nn.ModuleList(blocks)
        if arch == "tabm-mini":
            self.affine = ScaleEnsemble(
                k, d_in, init=scaling_init, init_chunks=scaling_init_chunks
            )

    def forward(self, x):
        if self.arch == "tabm-mini":
            x = self.affine(x)
        for block in self.blocks:
            x = block(x)
        return x


class TabMModule(nn.Module):
    """The TabM network: features -> k member representations -> k heads.

    Parameters
    ----------
    n_num_features : int
        Number of numeric input columns (after preprocessing).
    cat_cardinalities : list of int
        Number of known categories of each categorical column.
    d_out : int
        Output size of each member (1 for single-output regression, the number
        of classes for classification, ...).
    k : int, default=32
        Number of members.
    arch : {"tabm", "tabm-mini", "tabm-packed"}, default="tabm"
        Which weights are shared (see :class:`skensemble.tabm.TabMRegressor`).
    n_blocks : int, default=3
        Depth of each member.
    d_block : int, default=512
        Width of each member.
    dropout : float, default=0.1
        Dropout rate after every ReLU.
    num_embeddings : torch.nn.Module or None, default=None
        Shared embedding of the numeric features with ``get_output_shape()``
        returning ``(n_num_features, d_embedding)``.
    scaling_init : {"random-signs", "normal"} or None, default=None
        First-adapter distribution; None picks TabM's default ("normal" with
        embeddings, "random-signs" without).

    Notes
    -----
    ``forward(x_num, x_cat)`` accepts ``(B, n)`` inputs (every member sees the
    same rows) or ``(B, k, n)`` inputs (member ``j`` sees its own batch
    ``x[:, j]``) and returns ``(B, k, d_out)``.

    Examples
    --------
    >>> import torch
    >>> from skensemble.tabm import TabMModule
    >>> module = TabMModule(n_num_features=4, d_out=1, k=8, d_block=32)
    >>> module(torch.randn(5, 4)).shape
    torch.Size([5, 8, 1])
    """

    def __init__(
        self,
        *,
        n_num_features=0,
        cat_cardinalities=(),
        d_out,
        k=32,
        arch="tabm",
        n_blocks=3,
        d_block=512,
        dropout=0.1,
        num_embeddings=None,
        scaling_init=None,
    ):
        super().__init__()
        cat_cardinalities = list(cat_cardinalities)
        if n_num_features == 0 and not cat_cardinalities:
            raise ValueError("TabMModule needs at least one input feature.")
        d_features = []
        if num_embeddings is None:
            d_features += [1] * n_num_features
        else:
            n_embedded, d_embedding = num_embeddings.get_output_shape()
            if n_embedded != n_num_features:
                raise ValueError(
                    f"num_embeddings covers {n_embedded} features, "
                    f"expected {n_num_features}."
                )
            d_features += [d_embedding] * n_num_features
        d_features += cat_cardinalities
        if scaling_init is None:
            scaling_init = "normal" if num_embeddings is not None else "random-signs"
        self.k = k
        self.n_num_features = n_num_features
        self.num_module = num_embeddings
        self.cat_module = (
            OneHotEncoding(cat_cardinalities) if cat_cardinalities else None
        )
        self.backbone = TabMBackbone(
            d_in=sum(d_features),
            k=k,
            arch=arch,
            n_blocks=n_blocks,
            d_block=d_block,
            dropout=dropout,
            scaling_init=scaling_init,
            scaling_init_chunks=d_features,
        )
        self.output = LinearEnsemble(d_block, d_out, k=k)

    def _flat_features(self, x_num, x_cat):
        parts = []
        if x_num is not None and x_num.shape[-1] > 0:
            if self.num_module is not None:
                lead = x_num.shape[:-1]
                x_num = self.num_module(x_num.reshape(-1, x_num.shape[-1]))
                x_num = x_num.reshape(*lead, -1)
            parts.append(x_num)
        if self.cat_module is not None:
            parts.append(self.cat_module(x_cat).to(parts[0].dtype if parts else None))
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=-1)

    def forward(self, x_num=None, x_cat=None):
        x = self._flat_features(x_num, x_cat)
        if x.ndim == 2:
            x = x.unsqueeze(1).expand(-1, self.k, -1)
        return self.output(self.backbone(x))
