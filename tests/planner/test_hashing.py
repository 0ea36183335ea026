"""Content hashes: the same values hash the same in any order, format or dtype; any changed value changes them."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from contracts import Dataset, load_dataset
from planner.hashing import dataset_hashes, folder_hash, table_hash

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


@pytest.fixture(scope="module")
def sample_spend(tmp_path_factory) -> pd.DataFrame:
    folder = tmp_path_factory.mktemp("spend_csv")
    shutil.copy(SAMPLE / "spend.csv", folder / "spend.csv")
    return load_dataset(folder).spend


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "week": pd.to_datetime(["2025-01-06", "2025-01-13", "2025-01-06"]),
            "region": ["Asia", "Europe", "Europe"],
            "spend": [1.5, 2.0, -0.0],
            "n": [1, 2, 3],
        }
    )


def test_row_and_column_order_do_not_matter():
    df = _frame()
    shuffled = df.sample(frac=1.0, random_state=3)[["n", "spend", "week", "region"]].reset_index(drop=True)
    assert table_hash(df) == table_hash(shuffled)
    assert table_hash(df) == table_hash(df.set_index("region", drop=False))  # the index is not content


def test_csv_float_formatting_does_not_matter(tmp_path):
    (tmp_path / "a.csv").write_text("x,y\n1.50,2.00\n-0.0,1e3\n")
    (tmp_path / "b.csv").write_text("x,y\n1.5,2\n0,1000\n")
    assert table_hash(pd.read_csv(tmp_path / "a.csv")) == table_hash(pd.read_csv(tmp_path / "b.csv"))


def test_int_and_float_columns_with_the_same_values_hash_the_same():
    ints = pd.DataFrame({"n": [1, 2, 3]})
    assert table_hash(ints) == table_hash(ints.astype("float64"))
    assert table_hash(ints) == table_hash(ints.astype("Int64"))
    assert table_hash(pd.DataFrame({"n": [1.0, np.nan]})) == table_hash(
        pd.DataFrame({"n": pd.array([1, None], "Int64")})
    )


def test_dates_as_text_or_datetimes_and_text_normalisation():
    as_dates = pd.DataFrame({"week": pd.to_datetime(["2025-01-06"]), "name": ["Caf\u00e9"]})
    as_text = pd.DataFrame({"week": ["2025-01-06"], "name": ["Cafe\u0301"]})  # decomposed é, NFC-equal
    assert table_hash(as_dates) == table_hash(as_text)
    utc = pd.DataFrame({"ts": pd.to_datetime(["2025-01-06T10:00:00Z"])})
    tokyo = pd.DataFrame({"ts": utc["ts"].dt.tz_convert("Asia/Tokyo")})
    assert table_hash(utc) == table_hash(tokyo)


def test_sample_spend_as_csv_and_parquet_hash_the_same(tmp_path, sample_spend):
    shuffled = sample_spend.sample(frac=1.0, random_state=0)[["spend", "channel", "week", "region"]]
    shuffled.to_parquet(tmp_path / "spend.parquet", index=False)
    from_parquet = load_dataset(tmp_path).spend
    assert table_hash(from_parquet) == table_hash(sample_spend)
    # written again as CSV with two decimals everywhere ("1.50"), read back the same
    reformatted = tmp_path / "csv"
    reformatted.mkdir()
    sample_spend.to_csv(reformatted / "spend.csv", index=False, float_format="%.2f", date_format="%Y-%m-%d")
    assert table_hash(load_dataset(reformatted).spend) == table_hash(sample_spend)


def test_a_changed_value_changes_the_hash(sample_spend):
    base = table_hash(sample_spend)
    changed = sample_spend.copy()
    changed.loc[17, "spend"] += 0.01
    assert table_hash(changed) != base
    renamed = sample_spend.rename(columns={"spend": "amount"})
    assert table_hash(renamed) != base
    assert table_hash(sample_spend.iloc[1:]) != base
    moved = sample_spend.copy()  # same values, another pairing of rows: different content
    moved.loc[[0, 1], "spend"] = moved.loc[[1, 0], "spend"].to_numpy()
    assert table_hash(moved) != base
    assert table_hash(pd.DataFrame({"a": ["x", "y"]})) != table_hash(pd.DataFrame({"a": ["x,y", ""]}))


def test_dataset_hashes_one_per_table(sample_spend):
    data = Dataset(spend=sample_spend)
    assert dataset_hashes(data) == {"spend": table_hash(sample_spend)}


def test_folder_hash_is_stable_and_sensitive(tmp_path):
    folder = tmp_path / "posterior"
    (folder / "sub").mkdir(parents=True)
    (folder / "info.json").write_text('{"draws": 10}')
    (folder / "sub" / "draws.bin").write_bytes(bytes(range(256)))
    first = folder_hash(folder)
    assert folder_hash(folder) == first and len(first) == 64
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    assert folder_hash(copy) == first  # location and file times do not matter
    (copy / "info.json").write_text('{"draws": 11}')
    assert folder_hash(copy) != first
    (copy / "info.json").write_text('{"draws": 10}')
    (copy / "sub" / "draws.bin").rename(copy / "sub" / "draws2.bin")
    assert folder_hash(copy) != first
    (copy / "sub" / "draws2.bin").rename(copy / "sub" / "draws.bin")
    assert folder_hash(copy) == first
    (copy / "extra").write_text("")
    assert folder_hash(copy) != first
    with pytest.raises(FileNotFoundError):
        folder_hash(tmp_path / "missing")
