"""build_paths on PySpark (local[2]) against answers it does not share with DuckDB.

Both backends run the same Ibis expression, so agreeing with each other proves little: here Spark's paths must equal
the hand-worked table, the bundled sample's ``paths.csv`` (written by the simulator, not by this expression), and
the conservation laws every paths table obeys (each conversion and each unit of revenue is either in the table or
in the report).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import warnings
from pathlib import Path

import pandas as pd
import pytest

from attribution import DataWarning, Paths, build_paths

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"


def _has_java() -> bool:
    home = os.environ.get("JAVA_HOME")
    return shutil.which("java") is not None or bool(home and (Path(home) / "bin" / "java").exists())


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("pyspark") is None, reason="needs the spark extra"),
    pytest.mark.skipif(not _has_java(), reason="PySpark needs a Java runtime (java on PATH or JAVA_HOME)"),
]


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


def on_spark(events: pd.DataFrame, backend, **kwargs) -> Paths:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return build_paths(events, backend=backend, **kwargs)


def assert_conserved(paths: Paths, events: pd.DataFrame) -> None:
    """Every conversion and its revenue is in the table or counted as without touches; open journeys aside."""
    conversions = events[events["event_type"] == "conversion"]
    table, report = paths.table, paths.report
    assert table["total_conversions"].sum() + report.conversions_without_touches == len(conversions)
    assert table["total_conversion_value"].sum() + report.revenue_without_touches == pytest.approx(
        conversions["revenue"].sum(), rel=1e-9
    )
    closed = table["total_conversions"].sum() + table["total_null"].sum()
    assert closed + report.open_journeys + report.conversions_without_touches == report.journeys


def test_hand_made_events_with_touch_days(spark_backend, hand_events, hand_expected):
    spark = on_spark(hand_events, spark_backend, touch_days=True)
    pd.testing.assert_frame_equal(spark.table.drop(columns="touch_days"), hand_expected)
    # touch ages worked out by hand: a 2 days and b 1 day before u1's conversion, c and d the same/next day
    assert spark.table["touch_days"].tolist() == ["0", "2 > 1", "0", "1"]
    assert spark.report.as_dict() == {
        "journeys": 7,
        "open_journeys": 1,
        "open_touches": 1,
        "conversions_without_touches": 2,
        "revenue_without_touches": 7.0,
        "touches_outside_lookback": 2,
    }
    assert_conserved(spark, hand_events)


@pytest.mark.skipif(not (SAMPLE / "events.csv.gz").exists(), reason="needs the bundled sample")
def test_sample_events_give_the_simulators_paths(spark_backend):
    from contracts import DataWarning as ContractsDataWarning
    from contracts import load_table

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ContractsDataWarning)
        events = load_table(SAMPLE / "events.csv.gz", "events")
        expected = load_table(SAMPLE / "paths.csv", "paths")
    spark = on_spark(events, spark_backend, by="region", lookback_days=30)
    cols = ["region", "path", "total_conversions", "total_conversion_value", "total_null"]
    pd.testing.assert_frame_equal(
        spark.table[cols].sort_values(["region", "path"], ignore_index=True),
        expected[cols].sort_values(["region", "path"], ignore_index=True),
        check_dtype=False,
        atol=1e-6,
    )
    truth = json.loads((SAMPLE / "truth.json").read_text())["meta"]["journeys"]
    assert spark.report.open_journeys == truth["open_journeys"]
    assert spark.report.journeys == truth["closed_journeys"] + truth["open_journeys"]
    assert_conserved(spark, events)
