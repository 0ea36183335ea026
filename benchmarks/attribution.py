"""Benchmark the attribution engine: wall time and peak memory per method and order, and path building.

Usage::

    python benchmarks/attribution.py                 # 100k and 1M distinct paths, 10M events (DuckDB)
    python benchmarks/attribution.py --quick         # 20k / 100k paths, 1M events
    python benchmarks/attribution.py --out results.json --spark-events 1000000

Prints a table and writes JSON (default ``benchmarks/results/attribution.json``). Peak memory is the peak of
Python/NumPy allocations traced by ``tracemalloc`` during a second, untimed run (Arrow and DuckDB buffers
are not traced). ChannelAttribution runs side by side only when it is importable.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# this script is named like the package: import the package from the repository root, not the script itself
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))
sys.modules.pop("attribution", None)
import attribution  # noqa: E402

N_CHANNELS = 10
CHANNELS = np.array([f"channel_{i}" for i in range(N_CHANNELS)])


def random_paths(n_distinct: int, seed: int = 0) -> pd.DataFrame:
    """``n_distinct`` distinct random paths (lengths 1-8 over 10 channels) with Poisson counts."""
    rng = np.random.default_rng(seed)
    n = 3 * n_distinct
    lengths = rng.integers(1, 9, n)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    codes = rng.integers(0, N_CHANNELS, int(offsets[-1]))
    tokens = pa.array(CHANNELS, type=pa.large_string()).take(pa.array(codes))
    lists = pa.LargeListArray.from_arrays(pa.array(offsets), tokens)
    joined = pc.binary_join(lists, pa.scalar(" > ", pa.large_string()))
    paths = pd.Series(joined.to_numpy(zero_copy_only=False)).drop_duplicates()
    paths = paths.iloc[:n_distinct].reset_index(drop=True)
    conv = rng.poisson(1.0, len(paths))
    nulls = rng.poisson(4.0, len(paths)) + (conv == 0)
    return pd.DataFrame(
        {
            "path": paths,
            "total_conversions": conv,
            "total_conversion_value": conv * rng.gamma(2.0, 30.0, len(paths)),
            "total_null": nulls,
        }
    )


def random_events(n_events: int, seed: int = 0) -> pa.Table:
    """``n_events`` raw events over ~n/10 users and one year; ~15% are conversions."""
    rng = np.random.default_rng(seed)
    conv = rng.random(n_events) < 0.15
    start = np.datetime64("2025-01-01T00:00:00", "us").astype(np.int64)
    ts = start + rng.integers(0, 365 * 86_400 * 1_000_000, n_events)
    return pa.table(
        {
            "user_id": pa.array(rng.integers(0, max(n_events // 10, 1), n_events)),
            "ts": pa.array(ts, type=pa.timestamp("us", tz="UTC")),
            "channel": pa.array(np.where(conv, None, CHANNELS[rng.integers(0, N_CHANNELS, n_events)])),
            "region": pa.array(np.array(["Asia", "Europe", "North America", "Other"])[rng.integers(0, 4, n_events)]),
            "event_type": pa.array(np.where(conv, "conversion", "touch")),
            "revenue": pa.array(np.where(conv, rng.gamma(2.0, 30.0, n_events), np.nan), from_pandas=True),
        }
    )


def measure(fn: Callable[[], object], memory: bool = True) -> dict[str, float]:
    """Wall time of one call, then (optionally) traced peak memory of a second call."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        fn()
        seconds = time.perf_counter() - start
        peak = float("nan")
        if memory:
            tracemalloc.start()
            fn()
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
    return {"seconds": round(seconds, 3), "peak_mib": round(peak, 1)}


def _path_tasks(paths: pd.DataFrame, n_boot: int) -> list[tuple[str, Callable[[], object], bool]]:
    """(task, call, trace memory) for one paths table."""
    tasks: list[tuple[str, Callable[[], object], bool]] = [
        (f"markov order {k}", lambda k=k: attribution.markov(paths, k), True) for k in (1, 2, 3, 4)
    ]
    tasks += [
        ("shapley", lambda: attribution.shapley(paths), True),
        ("shapley ordered", lambda: attribution.shapley(paths, ordered=True), True),
        ("heuristics", lambda: attribution.heuristics(paths), True),
    ]
    if len(paths) <= 100_000:
        tasks += [
            (f"bootstrap markov order 1 x{n_boot}", lambda: attribution.bootstrap(paths, n_boot=n_boot), False),
            ("select_order 1-4", lambda: attribution.select_order(paths), True),
        ]
    if importlib.util.find_spec("ChannelAttribution") is not None:
        import ChannelAttribution as ca

        def channel_attribution() -> object:
            return ca.markov_model(
                paths,
                "path",
                "total_conversions",
                var_value="total_conversion_value",
                var_null="total_null",
                order=1,
                sep=">",
                flg_pro=False,
                verbose=0,
            )

        tasks.append(("ChannelAttribution markov_model order 1", channel_attribution, False))
    return tasks


def path_benchmarks(sizes: list[int], n_boot: int) -> list[dict]:
    rows = []
    for size in sizes:
        paths = random_paths(size)
        label = f"{len(paths):,} paths"
        for task, call, memory in _path_tasks(paths, n_boot):
            rows.append({"task": task, "data": label, **measure(call, memory)})
    return rows


def build_benchmarks(n_events: int, spark_events: int) -> list[dict]:
    import ibis

    rows = []
    events = random_events(n_events)
    table = ibis.memtable(events)
    rows.append(
        {
            "task": "build_paths DuckDB (by region)",
            "data": f"{n_events:,} events",
            **measure(lambda: attribution.build_paths(table, by="region"), memory=False),
        }
    )
    if spark_events and importlib.util.find_spec("pyspark") is not None:
        from pyspark.sql import SparkSession

        session = (
            SparkSession.builder.master("local[2]")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.driver.memory", "4g")
            .config("spark.ui.enabled", "false")
            .getOrCreate()
        )
        session.sparkContext.setLogLevel("ERROR")
        con = ibis.pyspark.connect(session)
        small = events.slice(0, spark_events).to_pandas()
        frame = session.createDataFrame(small)
        frame.createOrReplaceTempView("bench_events")
        spark_table = con.table("bench_events")
        attribution.build_paths(spark_table.limit(1000), by="region")  # warm the JVM
        rows.append(
            {
                "task": "build_paths Spark local[2] (by region)",
                "data": f"{spark_events:,} events",
                **measure(lambda: attribution.build_paths(spark_table, by="region"), memory=False),
            }
        )
        session.stop()
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "attribution.json")
    parser.add_argument("--spark-events", type=int, default=None, help="events for the Spark run (0: skip)")
    args = parser.parse_args(argv)
    sizes = [20_000, 100_000] if args.quick else [100_000, 1_000_000]
    n_events = 1_000_000 if args.quick else 10_000_000
    spark_events = args.spark_events if args.spark_events is not None else (200_000 if args.quick else 1_000_000)
    rows = path_benchmarks(sizes, n_boot=200) + build_benchmarks(n_events, spark_events)
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"python": platform.python_version(), "machine": platform.machine(), "quick": args.quick}
    args.out.write_text(json.dumps({"meta": meta, "results": rows}, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
