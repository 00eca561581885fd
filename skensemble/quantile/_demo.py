"""Demo section: aggregate three quantile models on the diabetes data."""

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import QuantileRegressor
from sklearn.model_selection import train_test_split

from skensemble._demo import DemoRow, DemoSection, offscreen_pyplot, timed_fit
from skensemble.metrics import (
    interval_coverage,
    interval_width,
    weighted_interval_score,
)
from skensemble.quantile._aggregator import QuantileAggregator
from skensemble.quantile._multi import MultiQuantileRegressor

LEVELS = np.array([0.05, 0.25, 0.5, 0.75, 0.95])


def _row(name, model, seconds, X_test, y_test, note=""):
    predictions = model.predict(X_test, quantiles=LEVELS)
    interval = model.predict_interval(X_test, confidence=0.9)
    return DemoRow(
        model=name,
        metric="WIS (lower is better)",
        score=weighted_interval_score(y_test, predictions, quantiles=LEVELS),
        fit_seconds=seconds,
        note=(
            f"90% interval: coverage {interval_coverage(y_test, interval):.2f}, "
            f"width {interval_width(interval):.0f}" + note
        ),
    )


def run(output_dir, quick=False):
    """Fit two base models and three aggregators; return a DemoSection."""
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=0
    )
    iterations = 15 if quick else 30
    base = [
        ("linear QR", QuantileRegressor(alpha=0.0)),
        (
            "HistGradientBoosting",
            HistGradientBoostingRegressor(
                loss="quantile", max_iter=iterations, learning_rate=0.1
            ),
        ),
    ]
    section = DemoSection(title="Quantile aggregation (Fakoor et al. 2023)")
    for name, estimator in base:
        model, seconds = timed_fit(
            MultiQuantileRegressor(estimator, quantiles=LEVELS), X_train, y_train
        )
        section.rows.append(_row(name, model, seconds, X_test, y_test))
    variants = {
        "mean of the two": {"weights": "mean"},
        "global-coarse weights": {"weights": "global", "granularity": "coarse"},
        "local-fine (DQA) + split CQR": {"conformal": "split"},
    }
    aggregator = None
    for name, options in variants.items():
        aggregator, seconds = timed_fit(
            QuantileAggregator(
                base,
                quantiles=LEVELS,
                cv=3,
                max_iter=30 if quick else 100,
                random_state=0,
                **options,
            ),
            X_train,
            y_train,
        )
        section.rows.append(_row(name, aggregator, seconds, X_test, y_test))
    plt = offscreen_pyplot()
    if plt is None:
        return section
    from skensemble.quantile._display import (
        QuantileCalibrationDisplay,
        QuantileIntervalDisplay,
    )

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    QuantileCalibrationDisplay.from_estimator(
        aggregator, X_test, y_test, name="DQA + CQR", ax=left
    )
    QuantileIntervalDisplay.from_estimator(
        aggregator, X_test, y_test, confidence=0.9, name="DQA + CQR", ax=right
    )
    path = f"{output_dir}/quantile_aggregation.png"
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    section.plots.append(path)
    return section
