from sklearn.ensemble import GradientBoostingRegressor
from sklearn.linear_model import QuantileRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks

from skensemble.quantile import MultiQuantileRegressor, QuantileAggregator


def _base():
    return [
        ("linear", QuantileRegressor(alpha=0.0)),
        (
            "gbr",
            GradientBoostingRegressor(loss="quantile", n_estimators=10, random_state=0),
        ),
    ]


ESTIMATORS = [
    MultiQuantileRegressor(QuantileRegressor(alpha=0.0)),
    MultiQuantileRegressor(
        GradientBoostingRegressor(loss="quantile", n_estimators=10, random_state=0)
    ),
    QuantileAggregator(
        _base(), weights="global", granularity="coarse", cv=3, max_iter=20
    ),
    QuantileAggregator(_base(), cv=3, max_iter=20, conformal="split"),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)
