"""Same seed → same world, byte for byte; the bundled sample is exactly what the CLI regenerates."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from contracts import ContractError, Dataset, load_dataset
from planner.cli import main
from simulator import TABLE_FILES, World, simulate_world

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


def test_world_holds_its_tables_as_one_validated_dataset(tmp_path):
    world = simulate_world(seed=1, weeks=20, n_users=2_000)
    assert isinstance(world.data, Dataset)
    assert world.data.names() == list(TABLE_FILES)
    for name in TABLE_FILES:
        assert getattr(world, name) is getattr(world.data, name)  # shortcuts, not copies
    assert world.spend["week"].dtype == "datetime64[ns]"  # the validated (canonical) table
    assert world.paths["total_conversions"].dtype == "float64"
    assert not hasattr(world, "tables")  # one dataset type: world.data.tables()
    with pytest.raises(AttributeError):
        world.spend = world.kpi
    # Saved and loaded back, the tables are the same (counts written as whole numbers, read back as floats).
    world.save(tmp_path)
    saved = pd.read_csv(tmp_path / "paths.csv")
    assert saved["total_conversions"].dtype == saved["total_null"].dtype == "int64"
    loaded = load_dataset(tmp_path)
    for name, table in world.data.tables().items():
        pd.testing.assert_frame_equal(getattr(loaded, name), table, check_dtype=False, obj=name)


def test_a_world_is_made_from_a_dataset_only():
    world = simulate_world(seed=1, weeks=12, n_users=500)
    with pytest.raises(TypeError, match=r"World\.data must be a contracts\.Dataset; got dict"):
        World(data=world.data.tables(), truth=world.truth, seed=1, config=world.config)
    bad = world.spend.assign(spend=-world.spend["spend"])
    with pytest.raises(ContractError, match="spend"):
        Dataset(spend=bad, kpi=world.kpi)


def test_a_world_without_lift_tests_has_no_lift_test_table(tmp_path):
    world = simulate_world(seed=1, weeks=12, n_users=500, n_lift_tests=0)
    assert world.lift_tests is None and len(world.truth.lift_tests) == 0
    assert "lift_tests" not in world.data.names()
    written = {p.name for p in world.save(tmp_path)}
    assert written == {f for n, f in TABLE_FILES.items() if n != "lift_tests"} | {"truth.json"}


def test_invalid_arguments_are_refused():
    with pytest.raises(ValueError, match="weeks must be >= 8"):
        simulate_world(seed=1, weeks=4)
    with pytest.raises(ValueError, match="start must be a Monday"):
        simulate_world(seed=1, weeks=10, start="2024-01-03")
    with pytest.raises(TypeError):
        simulate_world(seed=1, weeks=10, not_a_field=3)
