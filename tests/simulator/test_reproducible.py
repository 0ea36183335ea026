"""Same seed → same world, byte for byte; the bundled sample is exactly what the CLI regenerates."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from contracts import load_dataset
from planner.cli import main
from simulator import TABLE_FILES, simulate_world

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


def test_same_seed_same_world_and_other_seed_other_world():
    a = simulate_world(seed=1, weeks=20, n_users=2_000)
    b = simulate_world(seed=1, weeks=20, n_users=2_000)
    c = simulate_world(seed=2, weeks=20, n_users=2_000)
    for name in TABLE_FILES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert a.truth.to_json() == b.truth.to_json()
    assert not a.spend["spend"].equals(c.spend["spend"])


def test_journey_count_does_not_change_the_weekly_panel():
    # Independent random streams: asking for more users must not reshuffle spend or revenue.
    small = simulate_world(seed=1, weeks=20, n_users=1_000)
    large = simulate_world(seed=1, weeks=20, n_users=3_000)
    pd.testing.assert_frame_equal(small.spend, large.spend)
    pd.testing.assert_frame_equal(small.kpi, large.kpi)


@pytest.mark.slow
def test_bundled_sample_is_regenerated_byte_for_byte(tmp_path, capsys):
    assert main(["simulate", "--seed", "7", "--out", str(tmp_path)]) == 0
    files = sorted(p.name for p in SAMPLE.iterdir() if p.is_file() and p.name != "README.md")
    assert files == sorted(p.name for p in tmp_path.iterdir())
    for name in files:
        expected = hashlib.sha256((SAMPLE / name).read_bytes()).hexdigest()
        assert hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() == expected, name
    assert sum((SAMPLE / n).stat().st_size for n in files) < 20e6


def test_bundled_sample_passes_every_contract():
    data = load_dataset(SAMPLE)
    assert set(data.tables()) == set(TABLE_FILES)
    assert len(data.spend) == 104 * 4 * 11


def test_invalid_arguments_are_refused():
    with pytest.raises(ValueError, match="weeks must be >= 8"):
        simulate_world(seed=1, weeks=4)
    with pytest.raises(ValueError, match="start must be a Monday"):
        simulate_world(seed=1, weeks=10, start="2024-01-03")
    with pytest.raises(TypeError):
        simulate_world(seed=1, weeks=10, not_a_field=3)
