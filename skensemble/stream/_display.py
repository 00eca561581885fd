"""Plot prequential accuracy curves of several stream classifiers."""

from collections.abc import Mapping

from ._prequential import prequential_score


class PrequentialDisplay:
    """Windowed prequential accuracy of several models on one stream.

    Build it with :meth:`from_estimator` (runs :func:`prequential_score` on
    each model) or :meth:`from_results` (reuses results already computed).
    matplotlib is needed only to plot.

    Parameters
    ----------
    results : dict of str to Bunch
        Model name to the result of :func:`prequential_score`.
    drift_positions : sequence of int, default=()
        Instance indices where a known drift starts, drawn as vertical lines.

    Attributes
    ----------
    ax_ : matplotlib Axes
        The axes of the last :meth:`plot`.
    figure_ : matplotlib Figure
        The figure of the last :meth:`plot`.
    lines_ : dict of str to matplotlib Line2D
        One curve per model.

    See Also
    --------
    prequential_score : Computes the curves.

    Examples
    --------
    >>> import numpy as np
    >>> from river import tree
    >>> from skensemble.stream import PrequentialDisplay
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(size=(2000, 2))
    >>> y = (X[:, 0] > X[:, 1]).astype(int)
    >>> display = PrequentialDisplay.from_estimator(
    ...     {"Hoeffding tree": tree.HoeffdingTreeClassifier()}, X, y, window=500,
    ...     plot=False)
    >>> display.results["Hoeffding tree"].window_accuracy.shape
    (4,)
    """

    def __init__(self, results, drift_positions=()):
        self.results = results
        self.drift_positions = drift_positions

    @classmethod
    def from_estimator(
        cls, estimators, X, y, *, window=1000, drift_positions=(), ax=None, plot=True
    ):
        """Run a prequential evaluation of each model and plot the curves.

        Parameters
        ----------
        estimators : dict of str to model, or one model
            Name to a stream classifier accepted by :func:`prequential_score`
            (one model is named by its class); each is updated in place.
        X : array-like of shape (n_samples, n_features)
            The stream.
        y : array-like of shape (n_samples,)
            The labels.
        window : int, default=1000
            Width of the accuracy windows.
        drift_positions : sequence of int, default=()
            Known drift positions to mark.
        ax : matplotlib Axes, default=None
            Where to draw; a new figure when None.
        plot : bool, default=True
            Draw the curves (needs matplotlib).

        Returns
        -------
        display : PrequentialDisplay
            The display holding every result.
        """
        if not isinstance(estimators, Mapping):
            if isinstance(estimators, (list, tuple)):
                raise TypeError(
                    "estimators must be a dict of name to model (or one model); "
                    f"got a {type(estimators).__name__}."
                )
            estimators = {type(estimators).__name__: estimators}
        if not estimators:
            raise ValueError("estimators is empty; give at least one model.")
        results = {
            name: prequential_score(model, X, y, window=window)
            for name, model in estimators.items()
        }
        return cls.from_results(
            results, drift_positions=drift_positions, ax=ax, plot=plot
        )

    @classmethod
    def from_results(cls, results, *, drift_positions=(), ax=None, plot=True):
        """Display results already computed by :func:`prequential_score`.

        Parameters
        ----------
        results : dict of str to Bunch
            Model name to its prequential result.
        drift_positions : sequence of int, default=()
            Known drift positions to mark.
        ax : matplotlib Axes, default=None
            Where to draw; a new figure when None.
        plot : bool, default=True
            Draw the curves (needs matplotlib).

        Returns
        -------
        display : PrequentialDisplay
            The display.
        """
        display = cls(results, drift_positions=drift_positions)
        if plot:
            display.plot(ax=ax)
        return display

    def plot(self, ax=None):
        """Draw one accuracy curve per model.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new figure when None.

        Returns
        -------
        display : PrequentialDisplay
            ``self``, with ``ax_``, ``figure_`` and ``lines_`` set.
        """
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(8, 4))
        self.lines_ = {}
        for name, result in self.results.items():
            (self.lines_[name],) = ax.plot(
                result.window_ends,
                result.window_accuracy,
                label=f"{name} ({result.accuracy:.3f})",
            )
        for position in self.drift_positions:
            ax.axvline(position, color="grey", linestyle=":", linewidth=1)
        ax.set_xlabel("instances")
        ax.set_ylabel("windowed prequential accuracy")
        if self.lines_:  # no curves, no legend (matplotlib would warn)
            ax.legend(loc="lower right", fontsize="small")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self
