import numpy as np
import pytest

from optimizer import ResponseCurves
from tests.optimizer.conftest import asia_cells, mixed_world


def test_hill_formula_and_half_saturation():
    curves = ResponseCurves.hill(
        asia_cells(2), beta=[[100.0, 100.0]], half_saturation=[[10.0, 10.0]], shape=[[0.5, 2.0]]
    )
    np.testing.assert_allclose(curves.revenue([10.0, 10.0]), [[50.0, 50.0]])
    np.testing.assert_allclose(curves.revenue([40.0, 20.0]), [[100 * 2 / 3, 100 * 4 / 5]])


def test_families_formulas():
    cells = asia_cells(1)
    s = np.array([30.0])
    assert ResponseCurves.exponential(cells, [[10.0]], [[30.0]]).revenue(s)[0, 0] == pytest.approx(
        10 * (1 - np.exp(-1))
    )
    assert ResponseCurves.logistic(cells, [[10.0]], [[30.0]]).revenue(s)[0, 0] == pytest.approx(
        10 * (1 - np.exp(-1)) / (1 + np.exp(-1))
    )
    assert ResponseCurves.michaelis_menten(cells, [[10.0]], [[30.0]]).revenue(s)[0, 0] == pytest.approx(5.0)


def test_marginal_roi_matches_finite_difference():
    curves, current = mixed_world(draws=5, seed=3)
    h = 1e-3 * current
    fd = (curves.revenue(current + h) - curves.revenue(current - h)) / (2 * h)
    np.testing.assert_allclose(curves.mroi(current), fd, rtol=1e-5)


def test_roi_at_zero_is_marginal_roi():
    curves = ResponseCurves.michaelis_menten(asia_cells(1), [[10.0]], [[5.0]])
    assert curves.roi([0.0])[0, 0] == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"beta": [[-1.0, 1.0]], "half_saturation": [[1.0, 1.0]]}, "beta must be > 0"),
        ({"beta": [[1.0, 1.0, 1.0]], "half_saturation": [[1.0, 1.0]]}, "beta must be shaped"),
        ({"beta": [[1.0, 1.0]], "half_saturation": [[np.nan, 1.0]]}, "scale must be finite"),
    ],
)
def test_bad_parameters_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ResponseCurves.michaelis_menten(asia_cells(2), **kwargs)


def test_bad_cells_are_named():
    with pytest.raises(ValueError, match="objective must be one of"):
        ResponseCurves.michaelis_menten([("Asia", "x", "awareness")], [[1.0]], [[1.0]])
    with pytest.raises(ValueError, match="unique per"):
        ResponseCurves.michaelis_menten([("Asia", "x", "brand")] * 2, [[1.0, 1.0]], [[1.0, 1.0]])
