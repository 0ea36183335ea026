"""Small hand-made curve sets for the optimizer tests (no MCMC, tiny draws)."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer import Policy, ResponseCurves

REGIONS = ["Asia", "Europe", "North America", "Other"]
CHANNELS = [
    ("meta_ads", "acquisition"),
    ("google_search", "acquisition"),
    ("email_crm", "retention"),
    ("youtube_video", "brand"),
]


def one_group_policy(budget: float, **kw) -> Policy:
    """A policy with a single objective and region group, so only budget and bounds bind."""
    kw.setdefault("max_change", None)
    return Policy(
        budget=budget,
        objective_shares={"acquisition": 1.0},
        region_shares={"Asia": 1.0},
        **kw,
    )


def asia_cells(n: int) -> list[tuple[str, str, str]]:
    return [("Asia", f"channel_{i}", "acquisition") for i in range(n)]


def mixed_world(draws: int, seed: int = 0) -> tuple[ResponseCurves, np.ndarray]:
    """16 cells (4 regions × 4 channels), families mixed, current spend matching the default shares."""
    rng = np.random.default_rng(seed)
    cells = [(r, c, o) for r in REGIONS for c, o in CHANNELS]
    region_share = {"Asia": 0.35, "Europe": 0.25, "North America": 0.2, "Other": 0.2}
    obj_share = {"acquisition": 0.3, "retention": 0.3, "brand": 0.1}
    current = np.array([1e6 * region_share[r] * obj_share[o] for r, _, o in cells])
    current = current / current.sum() * 1e6
    beta = current * rng.lognormal(np.log(4.0), 0.25, (draws, len(cells)))
    half = current * rng.lognormal(0.0, 0.25, (draws, len(cells)))
    fam = np.arange(len(cells)) % 4
    parts = []
    for k, make in enumerate(
        (
            lambda c, b, h: ResponseCurves.michaelis_menten(c, b, h),
            lambda c, b, h: ResponseCurves.exponential(c, b, h),
            lambda c, b, h: ResponseCurves.hill(c, b, h, rng.uniform(0.5, 0.9, b.shape)),
            lambda c, b, h: ResponseCurves.logistic(c, b, h),
        )
    ):
        idx = np.flatnonzero(fam == k)
        parts.append(make([cells[i] for i in idx], beta[:, idx], half[:, idx]))
    curves = ResponseCurves.concat(parts)
    order = {(r, c): i for i, (r, c, _) in enumerate(cells)}
    cur = np.array([current[order[k]] for k in zip(curves.cells.region, curves.cells.channel, strict=True)])
    return curves, cur


@pytest.fixture(scope="module")
def world() -> tuple[ResponseCurves, np.ndarray]:
    return mixed_world(draws=40)
