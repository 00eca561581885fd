"""Closed-form size and compute of TabM networks (parameter counts, FLOPs)."""


def count_parameters(module):
    """Number of trainable parameters of ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def tabm_parameter_count(d_in, d_out, *, k, n_blocks, d_block, arch="tabm"):
    """Parameters of a TabM backbone and heads without embeddings (closed form).

    Shared weights count once; each BatchEnsemble layer adds ``k * (in + 2 * out)``
    adapter parameters; the k heads are independent.
    """
    widths = [d_in] + [d_block] * n_blocks
    shared = sum(a * b for a, b in zip(widths[:-1], widths[1:], strict=True))
    heads = k * (d_block * d_out + d_out)
    if arch == "tabm":
        adapters = sum(
            k * (a + 2 * b) for a, b in zip(widths[:-1], widths[1:], strict=True)
        )
        return shared + adapters + heads
    if arch == "tabm-mini":
        biases = d_block * n_blocks
        return shared + biases + k * d_in + heads
    if arch == "tabm-packed":
        return k * (shared + d_block * n_blocks) + heads
    raise ValueError(f"Unknown arch {arch!r}.")


def matmul_flops_per_object(d_in, d_out, *, k, n_blocks, d_block):
    """Forward multiply-add FLOPs per object: ``2 k (d_in d + (n-1) d^2 + d d_out)``."""
    return 2 * k * (d_in * d_block + (n_blocks - 1) * d_block**2 + d_block * d_out)
