"""Small simulated worlds and hand-built posteriors for the media-mix tests (no full MCMC)."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest

from mmm.data import prepare_data
from mmm.results import FittedMMM
from mmm.spec import MMMSpec
from simulator import CHANNELS, simulate_world

SMALL_CHANNELS = ("meta_ads", "email_crm", "youtube_video")


def small_world(seed: int = 3, weeks: int = 78, n_lift_tests: int = 2):
    """2 regions x 3 channels, short panel, tiny journey sample."""
    channels = {k: CHANNELS[k] for k in SMALL_CHANNELS}
    return simulate_world(
        seed=seed,
        weeks=weeks,
        n_users=300,
        regions={"Asia": 0.6, "Europe": 0.4},
        channels=channels,
        n_lift_tests=n_lift_tests,
    )


@pytest.fixture(scope="session")
def world():
    return small_world()


@pytest.fixture(scope="session")
def data(world):
    return prepare_data(world.data)


def truth_posterior(world, data, n_chains: int = 2, n_draws: int = 50, jitter: float = 0.0, seed: int = 0):
    """A posterior whose every draw is the simulator's truth (optionally jittered), as the model names it."""
    rng = np.random.default_rng(seed)
    cells = world.truth.cells.set_index(["region", "channel"]).loc[
        list(zip(data.cells["region"], data.cells["channel"], strict=True))
    ]
    rev_scale = data.revenue_scale[data.cell_region]
    baseline = (
        world.truth.baseline.pivot(index="week", columns="region", values="baseline")
        .loc[data.weeks, list(data.regions)]
        .to_numpy()
        / data.revenue_scale
    )
    noise_sd = world.config.noise_sd * np.ones(len(data.regions))

    def rep(values):
        values = np.asarray(values, dtype=float)
        out = np.broadcast_to(values, (n_chains, n_draws, *values.shape)).copy()
        return out * np.exp(jitter * rng.normal(size=out.shape)) if jitter else out

    posterior = {
        "roi": rep(cells["roi"]),
        "beta": rep(cells["beta_weekly"].to_numpy() / rev_scale),
        "cell_adstock_alpha": rep(cells["adstock_alpha"]),
        "cell_saturation_half_saturation": rep(cells["half_saturation_weekly"].to_numpy() / data.spend_scale),
        "cell_saturation_shape": rep(cells["hill_shape"]),
        "baseline": rep(baseline),
        "sigma": rep(noise_sd * world.truth.meta["baseline_params"][0]["level"] / data.revenue_scale[0]),
    }
    cell = ["cell"]
    dims = {"roi": cell, "beta": cell, "baseline": ["week", "region"], "sigma": ["region"]}
    dims |= {name: cell for name in posterior if name.startswith("cell_")}
    coords = {
        "cell": [data.cell_label(i) for i in range(len(data.cells))],
        "week": data.weeks,
        "region": list(data.regions),
    }
    return az.from_dict(
        posterior=posterior,
        sample_stats={"diverging": np.zeros((n_chains, n_draws), dtype=bool)},
        dims=dims,
        coords=coords,
    )


@pytest.fixture(scope="session")
def truth_fit(world, data):
    """A FittedMMM whose posterior is the exact truth: every answer can be checked against the simulator."""
    spec = MMMSpec()
    prior = data.cells[["region", "channel"]].assign(prior_log_median=0.0, prior_log_sd=1.0, prior_source="default")
    return FittedMMM(data=data, spec=spec, idata=truth_posterior(world, data), roi_prior=prior, info={})
