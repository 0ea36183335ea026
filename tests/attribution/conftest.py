"""Shared helpers for the attribution tests."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest


def _make_paths(rows: list[tuple]) -> pd.DataFrame:
    """Paths table from ``(path, conversions, nulls[, value])`` tuples; value defaults to 10 x conversions."""
    out = []
    for row in rows:
        path, conv, nulls = row[:3]
        value = row[3] if len(row) > 3 else 10.0 * conv
        out.append((path, conv, value, nulls))
    return pd.DataFrame(out, columns=["path", "total_conversions", "total_conversion_value", "total_null"])


def _random_paths(n: int, n_channels: int = 5, max_len: int = 6, seed: int = 0) -> pd.DataFrame:
    """A random paths table with ``n`` rows (paths may repeat), conversions and nulls Poisson."""
    rng = np.random.default_rng(seed)
    channels = np.array([f"c{i}" for i in range(n_channels)])
    lengths = rng.integers(1, max_len + 1, n)
    codes = rng.integers(0, n_channels, lengths.sum())
    starts = np.concatenate([[0], np.cumsum(lengths)])
    paths = [" > ".join(channels[codes[a:b]]) for a, b in itertools.pairwise(starts)]
    conv = rng.poisson(1.0, n)
    nulls = rng.poisson(3.0, n) + (conv == 0)
    value = conv * rng.gamma(2.0, 25.0, n)
    return pd.DataFrame(
        {"path": paths, "total_conversions": conv, "total_conversion_value": value, "total_null": nulls}
    )


@pytest.fixture(scope="session")
def make_paths():
    """Factory: paths table from ``(path, conversions, nulls[, value])`` tuples."""
    return _make_paths


@pytest.fixture(scope="session")
def random_paths():
    """Factory: random paths table ``random_paths(n, n_channels=5, max_len=6, seed=0)``."""
    return _random_paths


@pytest.fixture
def issue_example() -> pd.DataFrame:
    """The hand-solved example of issue 3: A = 2, B = 1 under order 1."""
    return _make_paths([("A>B>A>B>B>A", 1, 0), ("A>B>B>A>A", 1, 0), ("A>A", 1, 0)])


DAY0 = pd.Timestamp("2025-01-01", tz="UTC")


def _hand_events() -> pd.DataFrame:
    """Six users whose journeys are worked out by hand in the tests below."""
    rows = [
        # u1: a, b -> conversion 10; then c and a conversion 5 at the same instant (touch first)
        ("u1", 0, "a", "touch", None),
        ("u1", 1, "b", "touch", None),
        ("u1", 2, None, "conversion", 10.0),
        ("u1", 3, "c", "touch", None),
        ("u1", 3, None, "conversion", 5.0),
        # u2: a touch 50 days before its last touch falls outside the 30-day lookback; closed, no conversion
        ("u2", 0, "a", "touch", None),
        ("u2", 50, "a", "touch", None),
        # u3: last touch 5 days before the end of the data: open, not a null
        ("u3", 95, "b", "touch", None),
        # u4: conversion without any touch; u5: its only touch is 40 days old
        ("u4", 10, None, "conversion", 3.0),
        ("u5", 0, "c", "touch", None),
        ("u5", 40, None, "conversion", 4.0),
        # u6: d -> conversion 7 on the last day of the data
        ("u6", 99, "d", "touch", None),
        ("u6", 100, None, "conversion", 7.0),
    ]
    df = pd.DataFrame(rows, columns=["user_id", "day", "channel", "event_type", "revenue"])
    df["ts"] = DAY0 + pd.to_timedelta(df.pop("day"), unit="D")
    df["region"] = df["user_id"].map({"u1": "Asia", "u6": "Asia"}).fillna("Europe")
    # shuffled: the result must not depend on the input order
    return df.sample(frac=1.0, random_state=1).reset_index(drop=True)


_HAND_EXPECTED = pd.DataFrame(
    {
        "path": ["a", "a > b", "c", "d"],
        "total_conversions": [0, 1, 1, 1],
        "total_conversion_value": [0.0, 10.0, 5.0, 7.0],
        "total_null": [1, 0, 0, 0],
    }
)


@pytest.fixture
def hand_events() -> pd.DataFrame:
    """A hand-made event log of six users (see the comments in ``_hand_events``)."""
    return _hand_events()


@pytest.fixture
def hand_expected() -> pd.DataFrame:
    """The paths table of ``hand_events`` with a 30-day lookback, worked out by hand."""
    return _HAND_EXPECTED.copy()
