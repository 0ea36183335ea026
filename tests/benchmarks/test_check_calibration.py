"""The exact target arithmetic of benchmarks/check_calibration.py (the chance that at least 16 of 20 seeds land
inside). Benchmark code, not library code: its folder is put on the import path here, for these tests only."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def calibration():
    saved = list(sys.path)  # the script rewrites sys.path on import (its folder out, the repository in)
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import check_calibration
    finally:
        sys.path[:] = saved
    return check_calibration


def test_at_least_is_the_binomial_tail_for_equal_chances_and_enumeration_otherwise(calibration):
    for p in (0.5, 0.85, 0.9):
        assert calibration.at_least(np.full(20, p), 16) == pytest.approx(stats.binom.sf(15, 20, p), rel=1e-12)
    chances = np.array([0.9, 0.2, 0.65, 0.5])
    brute = sum(
        np.prod(np.where(hits, chances, 1 - chances))
        for hits in map(np.array, itertools.product([0, 1], repeat=4))
        if hits.sum() >= 2
    )
    assert calibration.at_least(chances, 2) == pytest.approx(brute, rel=1e-12)
    assert calibration.at_least(chances, 0) == pytest.approx(1.0)


def test_oracle_reference_per_region_and_all_regions(calibration):
    rows = pd.DataFrame(
        {
            "seed": [1, 1, 1, 2, 2, 2],
            "region": ["A", "B", "total"] * 2,
            "oracle_inside": [True, False, True, True, True, True],
            "oracle_mean_vs_true_expected_pct": [1.0, -1.0, 0.0, 3.0, 1.0, 2.0],
            "oracle_truth_z": [0.5, 1.0, 0.0, 1.5, 3.0, 1.0],
            "oracle_p_inside": [0.9, 0.5, 0.95, 0.8, 0.7, 0.95],
        }
    )
    out = calibration.oracle_reference(rows).set_index("region")
    assert out.loc["A", "oracle_coverage"] == 1.0 and out.loc["B", "oracle_coverage"] == 0.5
    assert out.loc["A", "oracle_bias_pct"] == pytest.approx(2.0)
    # 80% of 2 seeds is both: the product of each seed's chance
    assert out.loc["A", "oracle_p_meets_target"] == pytest.approx(0.9 * 0.8)
    assert out.loc["B", "oracle_p_meets_target"] == pytest.approx(0.5 * 0.7)
    assert out["oracle_p_all_regions_meet"].iloc[0] == pytest.approx(0.72 * 0.35)
