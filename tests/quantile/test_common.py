from sklearn.ensemble import GradientBoostingRegressor
from sklearn.linear_model import QuantileRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks

from skensemble.quantile import MultiQuantileRegressor, QuantileAggregator


def _linear():
    return QuantileRegressor(alpha=0.0)


def _boosting(n_estimators):
    return GradientBoostingRegressor(
        loss="quantile", n_estimators=n_estimators, random_state=0
    )


# Small settings keep the ~50 checks per estimator fast: each aggregator fit
# cross-fits every base model.
ESTIMATORS = [
    MultiQuantileRegressor(_linear()),
    # check_regressors_train wants R^2 > 0.5 from the median alone.
    MultiQuantileRegressor(_boosting(20)),
    QuantileAggregator(
        [("linear", _linear()), ("boosting", _boosting(5))],
        weights="global",
        granularity="coarse",
        cv=2,
        max_iter=5,
    ),
    QuantileAggregator([("linear", _linear())], cv=2, max_iter=5, conformal="split"),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)
