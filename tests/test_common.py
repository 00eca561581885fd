"""scikit-learn's estimator checks on every public estimator of skensemble."""

from sklearn.ensemble import GradientBoostingRegressor
from sklearn.linear_model import QuantileRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks

from skensemble.ensloss import EnsLossClassifier
from skensemble.quantile import MultiQuantileRegressor, QuantileAggregator
from skensemble.stream import DriftMoEClassifier
from skensemble.tabm import TabMClassifier, TabMRegressor

SMALL_TABM = dict(k=4, d_block=32, n_blocks=2, max_iter=60, random_state=0)
SMALL_ENSLOSS = dict(
    hidden_layer_sizes=(16,), learning_rate=5e-2, max_iter=8, random_state=0
)


def _linear_quantile():
    return QuantileRegressor(alpha=0.0)


def _boosting_quantile(n_estimators):
    return GradientBoostingRegressor(
        loss="quantile", n_estimators=n_estimators, random_state=0
    )


# Small settings keep the ~50 checks per estimator fast: each aggregator fit
# cross-fits every base model.
ESTIMATORS = [
    TabMRegressor(**SMALL_TABM),
    TabMClassifier(**SMALL_TABM),
    EnsLossClassifier(**SMALL_ENSLOSS),
    EnsLossClassifier(multi_class="ovo", loss="hinge", **SMALL_ENSLOSS),
    EnsLossClassifier(backbone="tabm", k=2, **SMALL_ENSLOSS),
    MultiQuantileRegressor(_linear_quantile()),
    # check_regressors_train wants R^2 > 0.5 from the median alone.
    MultiQuantileRegressor(_boosting_quantile(20)),
    QuantileAggregator(
        [("linear", _linear_quantile()), ("boosting", _boosting_quantile(5))],
        weights="global",
        granularity="coarse",
        cv=2,
        max_iter=5,
    ),
    QuantileAggregator(
        [("linear", _linear_quantile())], cv=2, max_iter=5, conformal="split"
    ),
    DriftMoEClassifier(n_experts=4, top_k=2, router_hidden=(16,), device="cpu"),
    DriftMoEClassifier(
        mode="task", task_prediction="product", router_hidden=(16,), device="cpu"
    ),
]

# Each entry says why scikit-learn's check cannot hold for the estimator.
_MINIBATCH_SGD = (
    "mini-batch training with random batch orders: weight 2 and a repeated row are "
    "equal in expectation, not exactly"
)
EXPECTED_FAILED_CHECKS = {
    "TabMRegressor": {"check_sample_weight_equivalence_on_dense_data": _MINIBATCH_SGD},
    "TabMClassifier": {"check_sample_weight_equivalence_on_dense_data": _MINIBATCH_SGD},
    "EnsLossClassifier": {
        "check_sample_weight_equivalence_on_dense_data": _MINIBATCH_SGD
    },
    "MultiQuantileRegressor": {},
    "QuantileAggregator": {
        "check_sample_weight_equivalence_on_dense_data": (
            "cross-fitting draws its folds over the rows, so repeating a row "
            "changes the folds (the check's explicit cv splits are not an "
            "accepted cv), and the weights are trained by mini-batch SGD"
        )
    },
    "DriftMoEClassifier": {
        "check_sample_weight_equivalence_on_dense_data": (
            "test-then-train in row order: a repeated row is predicted and learnt "
            "twice, the second time by a model that already learnt it, and the "
            "router steps every router_batch_size rows, not per unit of weight"
        )
    },
}


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_every_estimator_is_checked():
    names = {type(est).__name__ for est in ESTIMATORS}
    assert names == set(EXPECTED_FAILED_CHECKS)
