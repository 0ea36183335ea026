import numpy as np
import pytensor.tensor as pt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mmm.saturation import HillSaturation, LogisticSaturation, saturation_from_dict


def test_hill_by_hand():
    hill = HillSaturation()
    x = np.array([0.0, 1.0, 2.0, 4.0])
    got = hill.apply(x, {"half_saturation": 2.0, "shape": 2.0}, np)
    np.testing.assert_allclose(got, [0.0, 1 / 5, 1 / 2, 16 / 20], atol=1e-12)


def test_logistic_by_hand():
    got = LogisticSaturation().apply(np.array([0.0, 1.0]), {"lam": 2.0}, np)
    e = np.exp(-2.0)
    np.testing.assert_allclose(got, [0.0, (1 - e) / (1 + e)])


@pytest.mark.parametrize(
    "component, params",
    [
        (HillSaturation(), {"half_saturation": np.array([0.8, 1.5]), "shape": np.array([0.7, 1.8])}),
        (LogisticSaturation(), {"lam": np.array([0.5, 2.0])}),
    ],
)
def test_pytensor_matches_numpy_and_gradient_is_finite(component, params):
    x = np.array([[0.0, 0.0], [0.5, 1.0], [2.0, 3.0]])
    expected = component.apply(x, params, np)
    tensors = {k: pt.as_tensor_variable(v) for k, v in params.items()}
    out = component.apply(pt.as_tensor_variable(x), tensors, pt)
    np.testing.assert_allclose(out.eval(), expected, atol=1e-9)
    name = next(iter(tensors))
    grad = pt.grad(out.sum(), tensors[name]).eval()
    assert np.all(np.isfinite(grad))  # zero-spend weeks must not poison the sampler's gradients


@given(
    x=st.floats(0.05, 20.0),
    half=st.floats(0.2, 5.0),
    shape=st.floats(0.5, 2.5),
    lam=st.floats(0.1, 5.0),
)
def test_elasticity_is_x_times_derivative(x, half, shape, lam):
    h = 1e-6 * x
    for component, params in (
        (HillSaturation(), {"half_saturation": half, "shape": shape}),
        (LogisticSaturation(), {"lam": lam}),
    ):
        f = component.apply
        numeric = x * (f(np.array(x + h), params, np) - f(np.array(x - h), params, np)) / (2 * h)
        np.testing.assert_allclose(component.elasticity(np.array(x), params), numeric, rtol=1e-4, atol=1e-9)


def test_validation_and_round_trip():
    with pytest.raises(ValueError, match="shape_log_sd must be a number > 0"):
        HillSaturation(shape_log_sd=0)
    with pytest.raises(ValueError, match="lam_prior"):
        LogisticSaturation(lam_prior=(1.0,))
    for s in (HillSaturation(0.4, 0.2), LogisticSaturation((2.0, 1.0))):
        assert saturation_from_dict(s.to_dict()) == s
