"""Quantile grids: validation, interpolation between levels, symmetric pairs.

Shared by the quantile pillar and ``TabMRegressor(loss="quantile")``.
"""

import numbers

import numpy as np


def check_quantile_grid(quantiles, name="quantiles"):
    """Return ``quantiles`` as a sorted float array of distinct levels in (0, 1)."""
    if isinstance(quantiles, numbers.Real):
        quantiles = [quantiles]
    grid = np.asarray(quantiles, dtype=float).ravel()
    if grid.size == 0:
        raise ValueError(f"{name} must contain at least one level.")
    if not np.all(np.isfinite(grid)) or np.any((grid <= 0) | (grid >= 1)):
        raise ValueError(f"{name} must lie strictly between 0 and 1; got {grid}.")
    if np.any(np.diff(grid) <= 0):
        raise ValueError(f"{name} must be strictly increasing; got {grid}.")
    return grid


def interpolate_levels(predictions, grid, levels):
    """Linearly interpolate sorted quantiles (last axis) from ``grid`` to ``levels``.

    ``levels`` must lie inside ``[grid[0], grid[-1]]``: extrapolating a tail
    from the grid would invent information the models never gave.
    """
    levels = np.asarray(levels, dtype=float)
    outside = (levels < grid[0] - 1e-12) | (levels > grid[-1] + 1e-12)
    if np.any(outside):
        raise ValueError(
            f"Requested quantiles {levels[outside]} lie outside the fitted grid "
            f"[{grid[0]:g}, {grid[-1]:g}]; refit with a wider `quantiles` grid."
        )
    if grid.size == 1:
        return np.repeat(predictions[..., :1], levels.size, axis=-1)
    right = np.clip(np.searchsorted(grid, levels, side="left"), 1, grid.size - 1)
    left = right - 1
    fraction = (levels - grid[left]) / (grid[right] - grid[left])
    fraction = np.clip(fraction, 0.0, 1.0)
    return (1 - fraction) * predictions[..., left] + fraction * predictions[..., right]


def symmetric_pairs(grid, atol=1e-9):
    """Index pairs ``(i, j)`` with ``grid[i] + grid[j] == 1`` and ``grid[i] < 0.5``."""
    pairs = []
    for lower_index, level in enumerate(grid):
        if level >= 0.5:
            break
        match = np.flatnonzero(np.abs(grid - (1 - level)) <= atol)
        if match.size:
            pairs.append((lower_index, int(match[0])))
    return pairs


def interval_levels(confidence):
    """The (lower, upper) levels of a central interval with the given coverage."""
    if not 0 < confidence < 1:
        raise ValueError(
            f"confidence must lie strictly between 0 and 1; got {confidence}."
        )
    return np.array([(1 - confidence) / 2, (1 + confidence) / 2])
