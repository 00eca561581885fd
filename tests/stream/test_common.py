"""scikit-learn's estimator checks on every estimator of the stream pillar."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skensemble.stream import DriftMoEClassifier

ESTIMATORS = [
    DriftMoEClassifier(n_experts=4, top_k=2, router_hidden=(16,), device="cpu"),
    DriftMoEClassifier(
        mode="task", task_prediction="product", router_hidden=(16,), device="cpu"
    ),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)
