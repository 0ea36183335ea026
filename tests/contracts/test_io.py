"""Loading tables from CSV, gzip CSV and Parquet, and the ``validate`` command on good and bad folders."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from contracts import ContractError, find_tables, load_dataset, load_table, read_table, write_table
from planner.cli import main

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


def small_spend() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "week": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-08", "2024-01-08"]),
            "region": ["NA", "Asia", "NA", "Asia"],
            "channel": ["meta_ads"] * 4,
            "spend": [10.0, 20.0, 30.5, 0.0],
        }
    )


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet"])
def test_round_trip_in_every_format(tmp_path, suffix):
    path = write_table(small_spend(), tmp_path / f"spend{suffix}")
    loaded = load_table(path)
    # A region literally called "NA" stays a region, not a missing value.
    assert list(loaded["region"]) == ["NA", "Asia", "NA", "Asia"]
    pd.testing.assert_series_equal(loaded["spend"], small_spend()["spend"])
    assert (loaded["week"] == small_spend()["week"]).all()


def test_gzip_csv_is_byte_reproducible(tmp_path):
    a = write_table(small_spend(), tmp_path / "a.csv.gz").read_bytes()
    b = write_table(small_spend(), tmp_path / "b.csv.gz").read_bytes()
    assert a == b


def test_unknown_file_type_and_missing_file(tmp_path):
    (tmp_path / "spend.xlsx").write_text("x")
    with pytest.raises(ValueError, match=r"unsupported file type; allowed: .parquet, .csv, .csv.gz"):
        read_table(tmp_path / "spend.xlsx")
    with pytest.raises(FileNotFoundError, match="no such data file"):
        read_table(tmp_path / "kpi.csv")
    with pytest.raises(ValueError, match="cannot tell which table"):
        load_table(write_table(small_spend(), tmp_path / "budget.csv"))


def test_two_files_for_one_table_is_ambiguous(tmp_path):
    write_table(small_spend(), tmp_path / "spend.csv")
    write_table(small_spend(), tmp_path / "spend.parquet")
    with pytest.raises(ValueError, match=r"several files for table 'spend'"):
        find_tables(tmp_path)


def test_dataset_is_cross_checked(tmp_path):
    write_table(small_spend(), tmp_path / "spend.csv")
    kpi = pd.DataFrame(
        {"week": pd.to_datetime(["2024-01-01", "2024-01-08"]), "region": ["Asia", "Asia"], "revenue": [1.0, 2.0]}
    )
    write_table(kpi, tmp_path / "kpi.csv")
    with pytest.raises(ContractError, match=r"spend\.region: 1 region values appear in spend but not in kpi"):
        load_dataset(tmp_path)


def test_validate_command_reports_success_and_failure(tmp_path, capsys):
    assert main(["validate", str(SAMPLE)]) == 0
    assert "every table passes its data contract" in capsys.readouterr().out

    bad = small_spend()
    bad.loc[1, "spend"] = -3.0
    write_table(bad, tmp_path / "spend.csv")
    assert main(["validate", str(tmp_path)]) == 2
    out = capsys.readouterr().err
    assert "data contract check failed" in out
    assert "spend.spend: 1 values are negative" in out

    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["validate", str(empty)]) == 2
    assert "no data tables found" in capsys.readouterr().err
