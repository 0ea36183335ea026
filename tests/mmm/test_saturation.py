import numpy as np
import pymc as pm
import pytensor.tensor as pt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mmm.model import assemble_model
from mmm.saturation import HillSaturation, LogisticSaturation, saturation_from_dict
from mmm.spec import MMMSpec


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
    # unset, the per-channel medians are not written: a spec saved before they existed reads and hashes the same
    assert HillSaturation().to_dict() == {"kind": "hill", "half_saturation_log_sd": 0.5, "shape_log_sd": 0.3}


def test_shape_prior_median_per_channel_sets_the_prior_and_survives_a_round_trip(data):
    hill = HillSaturation(shape_prior_median={"youtube_video": 1.6, "email_crm": 0.7}, shape_log_sd=0.2)
    assert hill.shape_prior_median == (("email_crm", 0.7), ("youtube_video", 1.6))
    assert saturation_from_dict(hill.to_dict()) == hill
    spec = MMMSpec(saturation=hill)
    assert MMMSpec.from_json(spec.to_json()) == spec
    n = len(data.cells)
    model = assemble_model(data, spec, np.full(n, np.log(1.5)), np.full(n, 0.8))
    draws = pm.draw(model["saturation_shape"], draws=20_000, random_seed=1)
    medians = dict(zip(data.channels, np.median(draws, axis=0), strict=True))
    log_sds = dict(zip(data.channels, np.log(draws).std(axis=0), strict=True))
    assert medians["youtube_video"] == pytest.approx(1.6, rel=0.01)
    assert medians["email_crm"] == pytest.approx(0.7, rel=0.01)
    assert medians["meta_ads"] == pytest.approx(1.0, rel=0.01)  # not named: median 1
    assert all(sd == pytest.approx(0.2, rel=0.03) for sd in log_sds.values())


def test_shape_prior_median_rejects_bad_values_and_channels_the_data_lack(data):
    with pytest.raises(ValueError, match=r"shape_prior_median\['tv'\] must be a finite number > 0"):
        HillSaturation(shape_prior_median={"tv": 0.0})
    with pytest.raises(ValueError, match="must map channel names to numbers"):
        HillSaturation(shape_prior_median=[(1, 2.0)])
    with pytest.raises(ValueError, match="names channel 'tv' twice"):
        HillSaturation(shape_prior_median=[("tv", 1.0), ("tv", 2.0)])
    spec = MMMSpec(saturation=HillSaturation(shape_prior_median={"tv": 1.5}))
    n = len(data.cells)
    with pytest.raises(ValueError, match=r"names channels the data do not have: \['tv'\]"):
        assemble_model(data, spec, np.full(n, np.log(1.5)), np.full(n, 0.8))
