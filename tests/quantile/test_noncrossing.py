import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skensemble.metrics import pinball_loss
from skensemble.quantile import count_crossings, isotonic_quantiles, sort_quantiles
from skensemble.quantile._noncrossing import widen_from_median

finite = st.floats(-100, 100, allow_nan=False, allow_infinity=False)


@st.composite
def quantile_rows(draw):
    n_levels = draw(st.integers(2, 15))
    levels = np.sort(
        draw(
            arrays(
                float,
                n_levels,
                elements=st.floats(0.01, 0.99),
                unique=True,
            )
        )
    )
    predictions = draw(arrays(float, (3, n_levels), elements=finite))
    y = draw(arrays(float, 3, elements=finite))
    return y, predictions, levels


@settings(max_examples=300, deadline=None)
@given(quantile_rows())
def test_sorting_and_isotonic_never_increase_pinball_loss(case):
    # Proposition 2 of Fakoor et al. (2023), row by row.
    y, predictions, levels = case
    for row in range(y.size):
        before = pinball_loss(y[[row]], predictions[[row]], quantiles=levels)
        for fix in (sort_quantiles, isotonic_quantiles):
            after = pinball_loss(y[[row]], fix(predictions[[row]]), quantiles=levels)
            assert after <= before + 1e-9 * (1 + abs(before))


@settings(max_examples=200, deadline=None)
@given(quantile_rows())
def test_fixed_predictions_never_cross(case):
    _, predictions, _ = case
    assert count_crossings(sort_quantiles(predictions)) == 0
    assert count_crossings(isotonic_quantiles(predictions)) == 0
    widened = widen_from_median(predictions, predictions.shape[1] // 2)
    assert count_crossings(widened) == 0


@settings(max_examples=200, deadline=None)
@given(quantile_rows())
def test_widening_only_moves_levels_away_from_the_median(case):
    _, predictions, _ = case
    middle = predictions.shape[1] // 2
    widened = widen_from_median(predictions, middle)
    assert np.all(widened[:, :middle] <= predictions[:, :middle])
    assert np.all(widened[:, middle + 1 :] >= predictions[:, middle + 1 :])
    np.testing.assert_array_equal(widened[:, middle], predictions[:, middle])


def test_isotonic_is_the_l2_projection_on_a_known_case():
    np.testing.assert_allclose(
        isotonic_quantiles([[3.0, 1.0, 2.0, 5.0]]), [[2.0, 2.0, 2.0, 5.0]]
    )
    np.testing.assert_allclose(sort_quantiles([[3.0, 1.0, 2.0]]), [[1.0, 2.0, 3.0]])


@pytest.mark.parametrize(
    "function", [sort_quantiles, isotonic_quantiles, count_crossings]
)
def test_public_helpers_reject_non_finite_and_one_dimensional_input(function):
    with pytest.raises(ValueError, match="predictions contains NaN"):
        function(np.array([[0.0, np.nan], [1.0, 2.0]]))
    with pytest.raises(ValueError, match="Expected 2D array"):
        function(np.array([1.0, 0.0, 2.0]))
