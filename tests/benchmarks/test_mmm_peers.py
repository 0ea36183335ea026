"""The peer model's glue in benchmarks/mmm_peers.py (our long tables in pymc-marketing's wide layout, its ROI table
in our columns). It is benchmark code, not library code: benchmarks/ is not a package, so its folder is put on the
import path here, for these tests only."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator.scoring import roi_recovery

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def peers():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import mmm_peers
    finally:
        sys.path.remove(str(BENCHMARKS))
    return mmm_peers


def _panel():
    weeks = pd.date_range("2024-01-01", periods=3, freq="7D")
    spend = pd.DataFrame(
        [
            {"week": w, "region": r, "channel": c, "spend": v}
            for w in weeks
            for r, c, v in [("A", "tv", 10.0), ("A", "search", 5.0), ("B", "tv", 2.0), ("A", "radio", 0.0)]
        ]
        + [{"week": w, "region": "B", "channel": c, "spend": 0.0} for w in weeks for c in ("search", "radio")]
    )
    kpi = pd.DataFrame([{"week": w, "region": r, "revenue": 100.0 + i} for i, w in enumerate(weeks) for r in "AB"])
    controls = kpi[["week", "region"]].assign(promo=[0.0, 0.0, 1.0, 0.0, 0.0, 1.0])
    return spend, kpi, controls


def test_wide_panel_fills_dark_geos_with_zeros_and_drops_channels_without_spend(peers):
    spend, kpi, controls = _panel()
    x, y, channels, control_names, totals = peers.wide_panel(spend, kpi, controls)
    assert channels == ["search", "tv"]  # radio never spends anywhere
    assert control_names == ["promo"]
    assert x.columns.tolist() == ["week", "geo", "search", "tv", "promo"]
    assert len(x) == len(y) == 6
    assert x.loc[x["geo"] == "B", "search"].eq(0.0).all()
    assert x.loc[x["geo"] == "A", "tv"].eq(10.0).all()
    assert y.tolist() == [100.0, 100.0, 101.0, 101.0, 102.0, 102.0]
    assert x["promo"].tolist() == [0.0, 0.0, 1.0, 0.0, 0.0, 1.0]
    assert totals.to_dict("records") == [
        {"region": "A", "channel": "search", "spend_window": 15.0},
        {"region": "A", "channel": "tv", "spend_window": 30.0},
        {"region": "B", "channel": "tv", "spend_window": 6.0},
    ]


def test_wide_panel_refuses_names_pymc_marketing_uses(peers):
    spend, kpi, controls = _panel()
    with pytest.raises(ValueError, match="must not be any of"):
        peers.wide_panel(spend, kpi, controls.rename(columns={"promo": "y"}))
    with pytest.raises(ValueError, match="name of a channel"):
        peers.wide_panel(spend, kpi, controls.rename(columns={"promo": "tv"}))


def test_peer_roi_table_has_our_columns_and_scores_like_ours(peers):
    import xarray as xr

    # 1 chain x 20 draws, 2 weeks, one geo and channel: draw i contributes i a week, so over a window spend of 10 the
    # ROI draws are 0.2, 0.4, ..., 4.0. The 90% HDI spans floor(0.9 * 20) + 1 = 19 sorted draws; every such span is
    # equally wide, and the first is taken: [0.2, 3.8].
    per_week = np.arange(1.0, 21.0)[None, :, None, None, None] * np.ones((1, 20, 2, 1, 1))
    contribution = xr.DataArray(per_week, dims=("chain", "draw", "date", "geo", "channel"))
    contribution = contribution.assign_coords(geo=["A"], channel=["tv"])
    totals = pd.DataFrame({"region": ["A"], "channel": ["tv"], "spend_window": [10.0]})
    table, draws = peers._roi_table(contribution, totals)
    assert table.columns.tolist() == ["region", "channel", "spend_window", "contribution", "roi", "roi_low", "roi_high"]
    assert table.attrs["interval"] == "90% HDI"
    row = table.iloc[0]
    assert (row["contribution"], row["roi"]) == (pytest.approx(21.0), pytest.approx(2.1))
    assert (row["roi_low"], row["roi_high"]) == (pytest.approx(0.2), pytest.approx(3.8))
    assert draws.shape == (1, 20, 1)
    truth = pd.DataFrame({"region": ["A"], "channel": ["tv"], "roi": [4.0]})
    assert roi_recovery(table, truth) == {"roi_median_abs_pct_error": pytest.approx(47.5), "roi_hdi90_coverage": 0.0}
