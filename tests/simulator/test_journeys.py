"""Journeys: events, paths and counterfactual truth agree with each other and with an independent recount."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from contracts import validate_events, validate_paths
from simulator import WorldConfig, simulate_world
from simulator.journeys import MAX_COUNTED_TOUCHES, simulate_journeys


@pytest.fixture(scope="module")
def world():
    return simulate_world(seed=3, weeks=30, n_users=6_000)


def test_paths_are_the_closed_journeys_of_the_event_log(world):
    events = validate_events(world.events)
    touches = events[events["event_type"] == "touch"].sort_values(["user_id", "ts"], kind="stable")
    conversions = events[events["event_type"] == "conversion"].set_index("user_id")
    per_user = touches.groupby("user_id").agg(path=("channel", " > ".join), region=("region", "first"))
    per_user["last_touch"] = touches.groupby("user_id")["ts"].max()
    per_user["converted"] = per_user.index.isin(conversions.index)
    per_user["value"] = conversions["revenue"].reindex(per_user.index).fillna(0.0)
    # Closed: conversion logged, or the last touch is lookback_days before the log's last event.
    lookback = pd.Timedelta(days=world.config.lookback_days)
    closed = per_user[per_user["converted"] | (per_user["last_touch"] <= events["ts"].max() - lookback)]
    expected = (
        closed.assign(total_conversions=closed["converted"].astype(int), total_null=(~closed["converted"]).astype(int))
        .groupby(["region", "path"], as_index=False)
        .agg(
            total_conversions=("total_conversions", "sum"),
            total_conversion_value=("value", "sum"),
            total_null=("total_null", "sum"),
        )
    )
    got = validate_paths(world.paths).sort_values(["region", "path"]).reset_index(drop=True)
    expected = expected.sort_values(["region", "path"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got[["region", "path"]], expected[["region", "path"]])
    np.testing.assert_allclose(got["total_conversions"], expected["total_conversions"])
    np.testing.assert_allclose(got["total_null"], expected["total_null"])
    np.testing.assert_allclose(got["total_conversion_value"], expected["total_conversion_value"], atol=0.01)
    # Every conversion in the log belongs to a closed journey; open journeys are counted in the truth.
    assert got["total_conversions"].sum() == len(conversions)
    meta = world.truth.meta["journeys"]
    assert meta["open_journeys"] == len(per_user) - len(closed)
    assert meta["users_without_logged_touches"] == world.config.n_users - len(per_user)


def test_retention_channels_never_open_a_journey(world):
    touches = world.events[world.events["event_type"] == "touch"].sort_values(["user_id", "ts"], kind="stable")
    first = touches.groupby("user_id")["channel"].first().map(world.channels.set_index("channel")["objective"])
    assert set(first) <= {"acquisition", "brand"}


def test_counterfactual_recounted_user_by_user():
    config = WorldConfig(n_users=1_500)
    rng = np.random.default_rng(5)
    weeks, regions, channels = 20, len(config.regions), len(config.channels)
    spend = rng.uniform(1_000, 5_000, (weeks, regions, channels))
    roi = rng.uniform(0.5, 4.0, (regions, channels))
    j = simulate_journeys(config, spend, roi, rng)

    # Naive recount: for each user, the noisy-OR probability with and without each channel's touches.
    touches_of = {u: [] for u in range(config.n_users)}
    for u, k in zip(j.touch_user, j.touch_channel, strict=True):
        touches_of[int(u)].append(int(k))
    for k in range(channels):
        expected_lost = 0
        for u in range(config.n_users):

            def prob(removed, u=u):
                survive = 1 - j.p_organic
                for channel in set(touches_of[u]) - {removed}:
                    count = min(touches_of[u].count(channel), MAX_COUNTED_TOUCHES)
                    survive *= (1 - j.q[j.user_region[u], channel]) ** count
                return 1 - survive

            expected_lost += int(j.user_uniform[u] < prob(None)) - int(j.user_uniform[u] < prob(k))
        got_lost = int(j.converts().sum() - j.converts(removed_channel=k).sum())
        assert got_lost == expected_lost
        assert not (j.converts(removed_channel=k) & ~j.converts()).any(), "removing a channel never adds a conversion"


def test_counterfactual_truth_favours_effective_channels():
    world = simulate_world(seed=3, weeks=52, n_users=40_000)
    inc = world.truth.channel_incrementality().set_index("channel")
    per_user = inc["incremental_conversions"] / inc["users_touched"]
    assert per_user["email_crm"] > per_user["loyalty_program"]
    assert per_user["google_search"] > per_user["sponsorship_events"]
    assert (inc["incremental_conversions"] >= 0).all()
    total = world.paths["total_conversions"].sum()
    assert inc["incremental_conversions"].sum() < total  # the organic rate explains the rest
