"""Shared fixtures: where the benchmark data lives, and skipping when it is absent."""

from pathlib import Path

import pandas as pd
import pytest
import torch

# The tests train tiny networks, where intra-op threads only add synchronisation:
# on a busy 2-core machine two threads made the suite ten times slower.
torch.set_num_threads(1)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def shared_csv():
    """Read ``../shared/data/<name>``; skip the test when the folder is absent."""

    def read(name, nrows=None):
        path = SHARED_DATA / name
        if not path.exists():
            pytest.skip(f"{path} is absent (benchmark data lives beside the checkout)")
        return pd.read_csv(path, nrows=nrows)

    return read
