import numpy as np
import pytensor.tensor as pt
import pytest

from mmm.adstock import DelayedAdstock, GeometricAdstock, adstock_from_dict, convolve, lagged


def test_geometric_weights_by_hand():
    w = GeometricAdstock(l_max=3).weights({"alpha": np.array([0.5, 0.0])})
    # alpha = 0.5: 1, 0.5, 0.25 over 1.75; alpha = 0: all weight on lag 0
    np.testing.assert_allclose(w[:, 0], [1 / 1.75, 0.5 / 1.75, 0.25 / 1.75])
    np.testing.assert_allclose(w[:, 1], [1.0, 0.0, 0.0])


def test_geometric_apply_impulse_and_steady_state():
    ad = GeometricAdstock(l_max=3)
    spend = np.array([[100.0], [0.0], [0.0], [0.0]])
    out = ad.apply(spend, {"alpha": np.array([0.5])})
    np.testing.assert_allclose(out[:, 0], [100 / 1.75, 50 / 1.75, 25 / 1.75, 0.0])
    const = ad.apply(np.full((6, 1), 7.0), {"alpha": np.array([0.8])})
    np.testing.assert_allclose(const[2:, 0], 7.0)  # normalised: steady state equals the weekly spend
    assert const[0, 0] < 7.0  # spend before the start counts as zero


def test_delayed_weights_by_hand():
    w = DelayedAdstock(l_max=4).weights({"alpha": np.array([0.5]), "theta": np.array([1.0])})
    raw = np.array([0.5**1, 0.5**0, 0.5**1, 0.5**4])
    np.testing.assert_allclose(w[:, 0], raw / raw.sum())
    assert np.argmax(w[:, 0]) == 1


@pytest.mark.parametrize(
    "component, params",
    [
        (GeometricAdstock(l_max=4), {"alpha": np.array([0.3, 0.7])}),
        (DelayedAdstock(l_max=4), {"alpha": np.array([0.3, 0.7]), "theta": np.array([0.5, 2.0])}),
    ],
)
def test_pytensor_matches_numpy(component, params):
    rng = np.random.default_rng(0)
    spend = rng.uniform(0, 10, (9, 2))
    expected = component.apply(spend, params)
    tensor_params = {k: pt.as_tensor_variable(v) for k, v in params.items()}
    got = convolve(lagged(spend, component.l_max), component.weights(tensor_params)).eval()
    np.testing.assert_allclose(got, expected)


def test_lagged_by_hand():
    out = lagged(np.array([1.0, 2.0, 3.0]), 2)
    np.testing.assert_array_equal(out, [[1, 2, 3], [0, 1, 2]])


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_bad_l_max_names_parameter(bad):
    with pytest.raises(ValueError, match="l_max must be an integer >= 1"):
        GeometricAdstock(l_max=bad)


def test_bad_prior():
    with pytest.raises(ValueError, match="alpha_prior"):
        GeometricAdstock(alpha_prior=(0.0, 1.0))
    with pytest.raises(ValueError, match="theta_sigma"):
        DelayedAdstock(theta_sigma=-1.0)


def test_round_trip():
    for ad in (GeometricAdstock(l_max=5, alpha_prior=(2.0, 2.0)), DelayedAdstock(l_max=6, theta_sigma=1.0)):
        assert adstock_from_dict(ad.to_dict()) == ad
    with pytest.raises(ValueError, match="adstock kind"):
        adstock_from_dict({"kind": "weird"})
