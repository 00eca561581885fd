from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _one_openmp_thread():
    """HistGradientBoosting and xgboost spin OpenMP threads; on a shared 2-core
    machine that oversubscribes and slows these small fits by 50x."""
    with threadpool_limits(limits=1):
        yield


@pytest.fixture
def regression_data():
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(300, 4))
    y = 3 * X[:, 0] + np.sin(6 * X[:, 1]) + rng.normal(scale=0.3, size=300)
    X_query = rng.uniform(size=(40, 4))
    return X, y, X_query


@pytest.fixture
def classification_data():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(240, 4))
    y = np.digitize(X[:, 0] + 0.5 * X[:, 1], [-0.5, 0.5])
    return X, y, rng.normal(size=(30, 4))


@pytest.fixture
def california():
    path = SHARED_DATA / "california_housing.csv.gz"
    if not path.exists():
        pytest.skip(f"shared data not found at {path}")
    import pandas as pd

    frame = pd.read_csv(path)
    return frame.drop(columns="target").to_numpy(), frame["target"].to_numpy()
