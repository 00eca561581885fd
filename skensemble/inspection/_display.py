"""Plot effective parameters on training and test inputs (Curth et al. 2024)."""

import numpy as np
from sklearn.utils import check_random_state

from ._effective import effective_parameters_path
from ._smoother import validate_smoother_inputs


def _ensemble_size(estimator):
    """Number of trees (forests, GB) or boosting rounds (HGB, xgboost)."""
    if hasattr(estimator, "n_iter_"):
        return int(estimator.n_iter_)
    if hasattr(estimator, "estimators_"):
        return len(estimator.estimators_)
    best = getattr(estimator, "best_iteration", None)
    if best is not None:
        return best + 1
    return estimator.get_booster().num_boosted_rounds()


def _like(X, values):
    """``values`` as a DataFrame with the columns of ``X`` when X is one (a
    Pipeline may select its columns by name)."""
    if hasattr(X, "columns"):
        return type(X)(values, columns=X.columns, index=X.index)
    return values


class SmootherDisplay:
    """Effective parameters on training versus test inputs, as in the papers.

    Two sweeps are available through :meth:`from_estimator`:
    ``sweep="ensemble_size"`` plots ``p_train`` and ``p_test`` against the number
    of trees (forests) or boosting rounds, and ``sweep="dissimilarity"`` plots
    ``p_test`` at inputs ``X_train + U(-delta, delta) * range`` against
    ``delta``, with ``p_train`` as a reference line. Randomised forests show
    ``p_test < p_train``, and ``p_test`` falls as test inputs move away from the
    training inputs.

    Parameters
    ----------
    x_values : ndarray
        Ensemble sizes or offsets ``delta``.
    train_parameters : ndarray
        ``p_train`` at each x value.
    test_parameters : ndarray
        ``p_test`` at each x value.
    sweep : {"ensemble_size", "dissimilarity"}
        What the x axis shows.
    n_train : int
        Number of training rows (the largest possible ``p_train``).
    estimator_name : str, default=None
        Legend label.

    Attributes
    ----------
    ax_ : matplotlib Axes
        The axes drawn on.
    figure_ : matplotlib Figure
        The figure holding ``ax_``.

    See Also
    --------
    effective_parameters : The plotted quantity.

    References
    ----------
    .. [1] A. Curth, A. Jeffares and M. van der Schaar, "Why do Random Forests
       Work? Understanding Tree Ensembles as Self-Regularizing Adaptive
       Smoothers", arXiv:2402.01502, 2024.

    Examples
    --------
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> from skensemble.inspection import SmootherDisplay, make_mars_additive
    >>> X, y = make_mars_additive(n_samples=200, random_state=0)
    >>> X_test, _ = make_mars_additive(n_samples=100, random_state=1)
    >>> forest = RandomForestRegressor(
    ...     n_estimators=20, max_features=0.4, random_state=0
    ... ).fit(X, y)
    >>> display = SmootherDisplay.from_estimator(
    ...     forest, X, X_test, n_points=3, plot=False
    ... )
    >>> display.x_values
    array([ 1, 10, 20])
    >>> bool(display.test_parameters[-1] < display.train_parameters[-1])
    True
    """

    def __init__(
        self,
        x_values,
        train_parameters,
        test_parameters,
        *,
        sweep,
        n_train,
        estimator_name=None,
    ):
        self.x_values = x_values
        self.train_parameters = train_parameters
        self.test_parameters = test_parameters
        self.sweep = sweep
        self.n_train = n_train
        self.estimator_name = estimator_name

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X_train,
        X_test=None,
        *,
        sweep="ensemble_size",
        n_points=8,
        offsets=(0.0, 0.05, 0.1, 0.2, 0.3),
        sample_weight=None,
        random_state=None,
        ax=None,
        plot=True,
    ):
        """Compute the sweep for a fitted ensemble and (by default) plot it.

        Parameters
        ----------
        estimator : fitted estimator
            A model supported by :func:`smoother_weights`.
        X_train : array-like of shape (n_train, n_features)
            The rows the model was fit on.
        X_test : array-like of shape (n_test, n_features), default=None
            Held-out inputs for ``p_test`` (needed for
            ``sweep="ensemble_size"``).
        sweep : {"ensemble_size", "dissimilarity"}, default="ensemble_size"
            The x axis.
        n_points : int, default=8
            Number of ensemble sizes, spaced evenly from 1 to the full size.
        offsets : sequence of float, default=(0, 0.05, 0.1, 0.2, 0.3)
            Noise widths ``delta`` of the dissimilarity sweep, in units of each
            feature's range in ``X_train`` (the papers' inputs lie in the unit
            cube, so there the units agree).
        sample_weight : array-like of shape (n_train,), default=None
            The sample weights the model was fit with.
        random_state : int, RandomState instance or None, default=None
            Seeds the noise of the dissimilarity sweep.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.
        plot : bool, default=True
            Draw right away (needs matplotlib). False only computes.

        Returns
        -------
        display : SmootherDisplay
        """
        final = validate_smoother_inputs(
            estimator, X_train, X_test, False, sample_weight
        )[0]
        n_train = np.shape(X_train)[0]
        name = type(final).__name__
        if sweep == "ensemble_size":
            if X_test is None:
                raise ValueError('sweep="ensemble_size" needs X_test.')
            full = _ensemble_size(final)
            sizes = np.unique(np.linspace(1, full, num=n_points).round().astype(int))
            train = effective_parameters_path(
                estimator,
                X_train,
                ensemble_sizes=sizes,
                sample_weight=sample_weight,
            )
            test = effective_parameters_path(
                estimator,
                X_train,
                X_test,
                ensemble_sizes=sizes,
                sample_weight=sample_weight,
            )
            x_values = sizes
        elif sweep == "dissimilarity":
            try:
                X_train_array = np.asarray(X_train, dtype=float)
            except (TypeError, ValueError):
                raise ValueError(
                    'sweep="dissimilarity" adds noise to the input features, '
                    "which must then be numbers; X_train has other values."
                ) from None
            rng = check_random_state(random_state)
            span = np.ptp(X_train_array, axis=0)
            x_values = np.asarray(offsets, dtype=float)
            full = [_ensemble_size(final)]
            p_train = effective_parameters_path(
                estimator, X_train, ensemble_sizes=full, sample_weight=sample_weight
            )[0]
            train = np.full(x_values.shape, p_train)
            test = np.array(
                [
                    effective_parameters_path(
                        estimator,
                        X_train,
                        _like(
                            X_train,
                            X_train_array
                            + rng.uniform(-delta, delta, X_train_array.shape) * span,
                        ),
                        ensemble_sizes=full,
                        sample_weight=sample_weight,
                    )[0]
                    for delta in x_values
                ]
            )
        else:
            raise ValueError(
                f'sweep must be "ensemble_size" or "dissimilarity", got {sweep!r}.'
            )
        display = cls(
            x_values, train, test, sweep=sweep, n_train=n_train, estimator_name=name
        )
        return display.plot(ax=ax) if plot else display

    def plot(self, ax=None):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.

        Returns
        -------
        display : SmootherDisplay
            ``self`` with ``ax_`` and ``figure_`` set.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        label = f"{self.estimator_name}: " if self.estimator_name else ""
        if self.sweep == "ensemble_size":
            ax.plot(self.x_values, self.train_parameters, "o--", label=f"{label}train")
            ax.plot(self.x_values, self.test_parameters, "o-", label=f"{label}test")
            ax.set_xlabel("number of trees / boosting rounds")
        else:
            ax.axhline(self.train_parameters[0], linestyle="--", label=f"{label}train")
            ax.plot(self.x_values, self.test_parameters, "o-", label=f"{label}test")
            ax.set_xlabel("test offset delta (fraction of feature range)")
        ax.set_ylabel("effective parameters")
        ax.legend()
        self.ax_ = ax
        self.figure_ = ax.figure
        return self
