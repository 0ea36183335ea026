"""What an analyst builds on: the public model with labelled coordinates, prior predictive draws, a labelled
posterior, and adstock / saturation components written outside the package."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import arviz as az
import numpy as np
import pandas as pd
import pytest

import mmm
from mmm.adstock import adstock_from_dict
from mmm.saturation import saturation_from_dict


@dataclass(frozen=True)
class PowerLawAdstock(mmm.Adstock):
    """Carry-over weight of lag l proportional to (1 + l) ** -power, power per channel (written here, not in mmm)."""

    power_sigma: float = 2.0
    kind: ClassVar[str] = "test_power_law"

    def weights(self, params: dict[str, Any]) -> Any:
        raw = (1.0 + self._lags()) ** (-params["power"])
        return raw / raw.sum(axis=0, keepdims=True)

    def priors(self, n_channels_dim: str) -> dict[str, Any]:
        import pymc as pm

        return {"power": pm.HalfNormal("adstock_power", sigma=self.power_sigma, dims=n_channels_dim)}


@dataclass(frozen=True)
class ExponentialSaturation(mmm.Saturation):
    """1 - exp(-x / scale), scale per cell (written here, not in mmm)."""

    kind: ClassVar[str] = "test_exponential"

    def apply(self, x: Any, params: dict[str, Any], xp: Any) -> Any:
        return 1.0 - xp.exp(-x / params["scale"])

    def elasticity(self, x: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        u = x / params["scale"]
        return u * np.exp(-u)

    def priors(self, cell_dim: str, channel_dim: str, channel_index: np.ndarray) -> dict[str, Any]:
        import pymc as pm

        return {"scale": pm.LogNormal("saturation_scale", 0.0, 0.5, dims=cell_dim)}

    def curve_family(self, params, spend_scale):
        return "exponential", spend_scale * params["scale"], np.ones_like(params["scale"])


def test_build_model_has_labelled_coordinates(world):
    model = mmm.build_model(world.data)
    assert list(model.coords["week"]) == list(pd.DatetimeIndex(sorted(world.kpi["week"].unique())))
    assert list(model.coords["region"]) == ["Asia", "Europe"]
    assert set(model.coords["channel"]) == {"meta_ads", "email_crm", "youtube_video"}
    assert "Asia/meta_ads" in model.coords["cell"]
    assert "revenue" in model.named_vars and model.named_vars_to_dims["roi"] == ("cell",)
    # lift tests are likelihood terms only when asked for
    with_lift = {v.name for v in model.observed_RVs}
    without = {v.name for v in mmm.build_model(world.data, lift_tests=False).observed_RVs}
    assert without == {"revenue"} and len(with_lift) == 2


def test_prior_predictive_is_in_currency_and_seeded(world):
    idata = mmm.prior_predictive(world.data, draws=200, seed=5)
    again = mmm.prior_predictive(world.data, draws=200, seed=5)
    simulated = idata.prior_predictive["revenue"]
    observed = idata.observed_data["revenue"]
    assert simulated.dims[-2:] == ("week", "region") and simulated.sizes["draw"] == 200
    np.testing.assert_array_equal(simulated.values, again.prior_predictive["revenue"].values)
    # observed data back in currency: equal to the KPI table
    kpi = world.kpi.pivot(index="week", columns="region", values="revenue")
    np.testing.assert_allclose(observed.values, kpi.to_numpy(), rtol=1e-12)
    # the prior puts observed revenue well inside its predictive range (a prior that cannot produce the data is wrong)
    low, high = np.quantile(simulated.values.reshape(-1, *observed.shape), [0.01, 0.99], axis=0)
    assert ((observed.values >= low) & (observed.values <= high)).mean() > 0.9
    assert (idata.prior["roi"].values > 0).all()


def test_labelled_posterior_has_region_and_channel_dims(truth_fit):
    labelled = truth_fit.labelled()
    roi = labelled.posterior["roi"]
    assert roi.dims == ("chain", "draw", "region", "channel")
    table = truth_fit.roi().set_index(["region", "channel"])
    got = float(roi.sel(region="Europe", channel="email_crm").mean())
    assert got == pytest.approx(table.loc[("Europe", "email_crm"), "roi"], rel=1e-12)
    summary = az.summary(labelled, var_names=["roi"], kind="stats")
    assert "roi[Asia, meta_ads]" in summary.index
    assert labelled.posterior["baseline"].dims == ("chain", "draw", "week", "region")
    assert truth_fit.idata.posterior["roi"].dims == ("chain", "draw", "cell")  # the fit itself is unchanged


def test_custom_components_plug_in_build_and_round_trip(world):
    spec = mmm.MMMSpec(adstock=PowerLawAdstock(l_max=4), saturation=ExponentialSaturation())
    model = mmm.build_model(world.data, spec)
    assert {"adstock_power", "saturation_scale", "cell_adstock_power", "cell_saturation_scale"} <= set(model.named_vars)
    logp = model.compile_logp()(model.initial_point())
    assert np.isfinite(logp)
    # the numpy side of the component agrees with the closed form
    w = PowerLawAdstock(l_max=3).weights({"power": np.array([1.0])}).ravel()
    np.testing.assert_allclose(w, np.array([1, 1 / 2, 1 / 3]) / (1 + 1 / 2 + 1 / 3))
    # saved specs name components by kind: a custom one comes back as itself
    assert adstock_from_dict(spec.adstock.to_dict()) == spec.adstock
    assert saturation_from_dict(spec.saturation.to_dict()) == spec.saturation
    assert mmm.MMMSpec.from_json(spec.to_json()) == spec


def test_a_component_kind_cannot_be_taken_twice():
    with pytest.raises(ValueError, match="adstock kind 'geometric' is already taken"):

        @dataclass(frozen=True)
        class Impostor(mmm.Adstock):
            kind: ClassVar[str] = "geometric"

            def weights(self, params):  # pragma: no cover - never built
                return params

            def priors(self, n_channels_dim):  # pragma: no cover
                return {}


def test_custom_components_fit_and_give_response_curves(world, tmp_path):
    import warnings

    spec = mmm.MMMSpec(adstock=PowerLawAdstock(l_max=4), saturation=ExponentialSaturation())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = mmm.fit(world.data, spec=spec, sampler=mmm.Sampler(draws=30, tune=40, chains=1), seed=2, check=False)
    curves = fitted.response_curves(period_weeks=13)
    assert set(curves.family) == {"exponential"} and curves.n_draws == 30
    # in steady state, period revenue of period spend S is P * beta * f(S / P): check one draw and cell by hand
    beta = fitted.draws("beta")[0, 0] * fitted.data.revenue_scale[fitted.data.cell_region[0]]
    scale = fitted.draws("cell_saturation_scale")[0, 0]
    s = np.full(curves.n_cells, 13 * 1000.0)
    expected = 13 * beta * (1 - np.exp(-1000.0 / fitted.data.spend_scale[0] / scale))
    assert curves.revenue(s)[0, 0] == pytest.approx(expected, rel=1e-9)
    back = mmm.load(fitted.save(tmp_path / "fit"))
    assert back.spec == spec
    np.testing.assert_allclose(back.roi()["roi"], fitted.roi()["roi"])
