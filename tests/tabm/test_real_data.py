"""TabM on real data at small size (California housing from ../shared/data)."""

import numpy as np
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skensemble.tabm import TabMRegressor
from skensemble.tabm._base import auto_batch_size


def test_tabm_beats_the_mean_and_a_linear_model_on_california(shared_csv):
    frame = shared_csv("california_housing.csv.gz").sample(n=3000, random_state=0)
    X, y = frame.drop(columns="target").to_numpy(), frame["target"].to_numpy()
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    rmse = {}
    for name, model in {
        "mean": DummyRegressor(),
        "linear": make_pipeline(StandardScaler(), Ridge()),
        "tabm": TabMRegressor(
            k=8, d_block=64, batch_size=128, max_iter=30, random_state=0
        ),
    }.items():
        model.fit(X_train, y_train)
        rmse[name] = mean_squared_error(y_test, model.predict(X_test)) ** 0.5
    assert rmse["tabm"] < 0.85 * rmse["linear"] < rmse["mean"], rmse


def test_auto_batch_size_follows_the_tabm_rule():
    sizes = [auto_batch_size(n) for n in (1_000, 3_600, 5_000, 20_000, 50_000, 2e5)]
    assert sizes == [32, 64, 128, 256, 512, 1024]
    assert np.all(np.diff(sizes) > 0)
