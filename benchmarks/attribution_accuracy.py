"""How close each attribution method gets to the simulator's counterfactual truth.

The simulator knows, for every channel, how many of the tracked journeys' conversions would be lost if the
channel were switched off (same users, same random numbers, that channel's touches removed). Attribution credit
sums to all conversions, organic ones included, so methods are compared on *shares*: each channel's share of the
credit against its share of the true incremental conversions.

Metrics per method: total variation distance between the two share vectors (0 = identical, 1 = disjoint),
the largest absolute share error and the channel it falls on, and Spearman's rank correlation.

Usage::

    python benchmarks/attribution_accuracy.py [--data data/sample] [--out benchmarks/results/attribution_accuracy.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

import attribution
from contracts import load_table

ROOT = Path(__file__).resolve().parents[1]


def true_shares(truth_path: Path) -> pd.Series:
    """Each channel's share of the counterfactual incremental conversions (all regions)."""
    journeys = pd.DataFrame(json.loads(truth_path.read_text())["journeys"])
    incremental = journeys.groupby("channel")["incremental_conversions"].sum()
    return incremental / incremental.sum()


def method_credits(paths: pd.DataFrame) -> dict[str, pd.Series]:
    """Conversions credited to each channel by every method (all regions pooled)."""
    pooled = paths.drop(columns=[c for c in ("region",) if c in paths.columns])
    credits: dict[str, pd.Series] = {}
    for order in (1, 2, 3, 4):
        markov = attribution.markov(pooled, order=order).table
        credits[f"markov_order{order}"] = markov.set_index("channel")["conversions"]
    credits["shapley"] = attribution.shapley(pooled).table.set_index("channel")["conversions"]
    ordered = attribution.shapley(pooled, ordered=True).table  # one row per (channel, position): sum the positions
    credits["shapley_ordered"] = ordered.groupby("channel")["conversions"].sum()
    heuristics = attribution.heuristics(pooled).table.set_index("channel")
    for rule in ("first_touch", "last_touch", "linear", "position_based"):
        credits[rule] = heuristics[rule]
    return credits


def score(credit: pd.Series, truth: pd.Series) -> dict[str, float | str]:
    """Share errors of one method against the truth."""
    share = (credit / credit.sum()).reindex(truth.index, fill_value=0.0)
    error = share - truth
    worst = error.abs().idxmax()
    return {
        "tvd": float(0.5 * error.abs().sum()),
        "max_abs_share_error": float(error.abs().max()),
        "worst_channel": str(worst),
        "spearman": float(spearmanr(share, truth).statistic),
    }


def evaluate(data: Path) -> pd.DataFrame:
    """One row per method with its share errors against the counterfactual truth."""
    paths = load_table(data / "paths.csv")
    truth = true_shares(data / "truth.json")
    rows = []
    for method, credit in method_credits(paths).items():
        rows.append({"method": method, **score(credit, truth)})
    return pd.DataFrame(rows).sort_values("tvd", ignore_index=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "sample")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "attribution_accuracy.json")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    table = evaluate(args.data)
    truth = true_shares(args.data / "truth.json")
    print(f"Attribution vs counterfactual truth ({args.data}); true incremental shares:")
    print((truth.sort_values(ascending=False) * 100).round(1).to_string())
    print()
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "data": str(args.data),
        "true_shares": {k: float(v) for k, v in truth.items()},
        "methods": table.to_dict(orient="records"),
        "seconds": time.perf_counter() - started,
    }
    args.out.write_text(json.dumps(payload, indent=1) + "\n")
    print(f"\nwrote {args.out}")
    return 0 if np.isfinite(table["tvd"]).all() else 1


if __name__ == "__main__":
    sys.exit(main())
