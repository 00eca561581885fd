"""The TabM section of ``skensemble demo``: bundled data, familiar baselines."""

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.metrics import accuracy_score, mean_squared_error
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .._demo import DemoRow, DemoSection, offscreen_pyplot, timed_fit
from ._classifier import TabMClassifier
from ._regressor import TabMRegressor


def _tabm_params(quick):
    # The paper's k=32 x 3x512 is minutes per fit on a laptop CPU; the demo keeps
    # the method and shrinks the width so the whole tour takes about a minute.
    return dict(k=8 if quick else 16, d_block=64 if quick else 128, random_state=0)


def run(output_dir, quick=False):
    """Fit TabM and baselines on two bundled datasets; plot member spread."""
    section = DemoSection("TabM: parameter-efficient deep ensembles")
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    regressors = {
        "TabMRegressor": TabMRegressor(**_tabm_params(quick)),
        "MLPRegressor": make_pipeline(
            StandardScaler(), MLPRegressor(max_iter=3000, random_state=0)
        ),
        "HistGradientBoosting": HistGradientBoostingRegressor(random_state=0),
        "RidgeCV": make_pipeline(StandardScaler(), RidgeCV()),
    }
    for name, model in regressors.items():
        model, seconds = timed_fit(model, X_train, y_train)
        rmse = mean_squared_error(y_test, model.predict(X_test)) ** 0.5
        section.rows.append(DemoRow(name, "diabetes RMSE", rmse, seconds))

    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, random_state=0, stratify=y
    )
    classifiers = {
        "TabMClassifier": TabMClassifier(**_tabm_params(quick)),
        "MLPClassifier": make_pipeline(
            StandardScaler(), MLPClassifier(max_iter=2000, random_state=0)
        ),
        "HistGradientBoosting": HistGradientBoostingClassifier(random_state=0),
        "LogisticRegression": make_pipeline(StandardScaler(), LogisticRegression()),
    }
    for name, model in classifiers.items():
        model, seconds = timed_fit(model, X_train, y_train)
        accuracy = accuracy_score(y_test, model.predict(X_test))
        section.rows.append(DemoRow(name, "breast cancer accuracy", accuracy, seconds))

    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    quantile = TabMRegressor(
        loss="quantile", quantiles=[0.1, 0.5, 0.9], **_tabm_params(quick)
    )
    quantile, seconds = timed_fit(quantile, X_train, y_train)
    low, high = quantile.predict(X_test, quantiles=[0.1, 0.9]).T
    coverage = np.mean((y_test >= low) & (y_test <= high))
    section.rows.append(
        DemoRow(
            "TabMRegressor(loss='quantile')", "diabetes 80% coverage", coverage, seconds
        )
    )
    plot = _plot_members(regressors["TabMRegressor"], X_test, y_test, output_dir)
    if plot is not None:
        section.plots.append(plot)
    return section


def _plot_members(model, X_test, y_test, output_dir):
    plt = offscreen_pyplot()
    if plt is None:
        return None
    members = model.predict_members(X_test)
    order = np.argsort(y_test)[:40]
    fig, ax = plt.subplots(figsize=(7, 4))
    positions = np.arange(len(order))
    for j in range(members.shape[1]):
        ax.scatter(positions, members[order, j], s=6, color="tab:blue", alpha=0.25)
    ax.plot(
        positions, members[order].mean(axis=1), "o-", color="tab:blue", label="mean"
    )
    ax.plot(positions, y_test[order], "k.", label="truth")
    ax.set(xlabel="test row (sorted by target)", ylabel="disease progression")
    ax.set_title("TabM: each member's prediction (dots) and the ensemble mean")
    ax.legend()
    path = output_dir / "tabm_members.png"
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
