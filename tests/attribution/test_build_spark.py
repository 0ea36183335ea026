"""build_paths gives identical paths on PySpark (local[2]) and on DuckDB, from the same expression."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from attribution import DataWarning, build_paths

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("pyspark") is None, reason="needs the spark extra"),
]

SAMPLE_EVENTS = Path(__file__).resolve().parents[2] / "data" / "sample" / "events.csv.gz"


@pytest.fixture(scope="module")
def spark_backend():
    import ibis
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("attribution-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield ibis.pyspark.connect(session)
    session.stop()


def sample_events() -> pd.DataFrame:
    """The bundled sample events when present, else a seeded synthetic log of the same shape."""
    if SAMPLE_EVENTS.exists():
        from contracts import load_table

        return load_table(SAMPLE_EVENTS, "events")
    rng = np.random.default_rng(5)
    n = 20_000
    conv = rng.random(n) < 0.15
    return pd.DataFrame(
        {
            "user_id": rng.integers(0, 2_000, n).astype(str),
            "ts": pd.Timestamp("2025-01-01", tz="UTC") + pd.to_timedelta(rng.uniform(0, 120, n), unit="D"),
            "channel": np.where(conv, None, rng.choice(["a", "b", "c", "d"], n)),
            "region": rng.choice(["Asia", "Europe"], n),
            "event_type": np.where(conv, "conversion", "touch"),
            "revenue": np.where(conv, rng.gamma(2.0, 30.0, n), np.nan),
        }
    )


def both(events: pd.DataFrame, backend, **kwargs) -> tuple[pd.DataFrame, pd.DataFrame]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return build_paths(events, **kwargs), build_paths(events, backend=backend, **kwargs)


def assert_same(duck: pd.DataFrame, spark: pd.DataFrame) -> None:
    # counts and paths must match exactly; summed revenue may differ in the last bits (summation order)
    pd.testing.assert_frame_equal(duck, spark, check_exact=False, rtol=1e-12)
    assert duck.attrs["report"].keys() == spark.attrs["report"].keys()
    for key, value in duck.attrs["report"].items():
        assert spark.attrs["report"][key] == pytest.approx(value, rel=1e-12)


def test_sample_events_by_region(spark_backend):
    duck, spark = both(sample_events(), spark_backend, by="region", lookback_days=30)
    assert len(duck) > 0
    assert_same(duck, spark)


def test_hand_made_events_with_touch_days(spark_backend, hand_events, hand_expected):
    duck, spark = both(hand_events, spark_backend, touch_days=True)
    assert_same(duck, spark)
    pd.testing.assert_frame_equal(duck.drop(columns="touch_days"), hand_expected)
