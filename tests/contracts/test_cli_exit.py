"""``growth-allocator validate`` exits 2 with a clear message on every failure, never 1 with a traceback (issue 13)."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from planner.cli import main

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
SPEND_CSV = "week,region,channel,spend\n2024-01-01,Asia,meta_ads,10.0\n2024-01-08,Asia,meta_ads,12.5\n"


def _flipped_gzip() -> bytes:
    packed = bytearray(gzip.compress((SPEND_CSV * 50).encode()))
    packed[len(packed) // 2] ^= 0x55
    return bytes(packed)


def _truncated_gzip() -> bytes:
    packed = gzip.compress((SPEND_CSV * 50).encode())
    return packed[: len(packed) // 2]


# name → (file name, content or a callable that makes the file, expected fragment of the message)
CASES = {
    "truncated gzip": ("spend.csv.gz", _truncated_gzip(), "spend.csv.gz: is truncated"),
    "plain csv named gz": ("spend.csv.gz", SPEND_CSV.encode(), "is not gzip-compressed although its name ends in .gz"),
    "flipped byte in gzip": ("spend.csv.gz", _flipped_gzip(), "spend.csv.gz: is "),
    "empty file": ("spend.csv", b"", "spend.csv: is empty (0 bytes)"),
    "parquet that is not parquet": ("spend.parquet", SPEND_CSV.encode(), "spend.parquet: is not a Parquet file"),
    "utf-16": ("spend.csv", SPEND_CSV.encode("utf-16"), "spend.csv: is encoded as UTF-16"),
    "latin-1": ("spend.csv", SPEND_CSV.replace("Asia", "Amérique").encode("latin-1"), "is not valid UTF-8"),
    "duplicated header": (
        "spend.csv",
        b"week,region,channel,spend,spend\n2024-01-01,Asia,meta_ads,1,2\n",
        "has duplicated column names in its header: 'spend' (2 times)",
    ),
    "directory": ("spend.csv", lambda p: p.mkdir(), "spend.csv: is a directory; allowed: a regular file"),
    "fifo": ("spend.csv", lambda p: os.mkfifo(p), "spend.csv: is a FIFO (named pipe)"),
    "symlink out": ("channels.csv", lambda p: p.symlink_to("/etc/passwd"), "symbolic link to a file outside"),
    "device": ("spend.csv", lambda p: p.symlink_to("/dev/zero"), "symbolic link to a file outside"),
    "wrong case": ("Spend.csv", SPEND_CSV.encode(), "Spend.csv: looks like the spend table but is not named exactly"),
    "upper case kpi": ("KPI.CSV", b"week,region,revenue\n", "allowed: kpi.csv or kpi.csv.gz or kpi.parquet"),
    "only spend": ("spend.csv", SPEND_CSV.encode(), "tables ['spend'] are not enough for any use"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_validate_exits_2_with_the_message(tmp_path, capsys, case):
    name, content, expected = CASES[case]
    path = tmp_path / name
    if callable(content):
        content(path)
    else:
        path.write_bytes(content)
    assert main(["validate", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert "data contract check failed" in captured.err
    assert expected in captured.err
    assert "Traceback" not in captured.err + captured.out
    assert "root:x" not in captured.err + captured.out


def test_only_spend_names_what_each_use_needs(tmp_path, capsys):
    (tmp_path / "spend.csv").write_text(SPEND_CSV)
    assert main(["validate", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "attribute needs events or paths; fit needs kpi, channels; plan needs kpi, channels" in err


def test_size_limit_from_the_command_line(tmp_path, capsys):
    (tmp_path / "spend.csv").write_text(SPEND_CSV)
    assert main(["validate", str(tmp_path), "--max-bytes", "20"]) == 2
    assert f"is {len(SPEND_CSV)} bytes on disk, above the limit of 20 bytes" in capsys.readouterr().err
    gz = tmp_path / "gz"
    gz.mkdir()
    (gz / "spend.csv.gz").write_bytes(gzip.compress(SPEND_CSV.encode()))
    assert main(["validate", str(gz), "--max-expanded-bytes", "20"]) == 2
    assert "once decompressed (or more), above the limit of 20 bytes" in capsys.readouterr().err


def test_missing_folder_exits_2(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nowhere")]) == 2
    assert "no such data folder" in capsys.readouterr().err


def test_unexpected_error_still_exits_2(tmp_path, capsys, monkeypatch):
    import contracts.io

    def boom(*args, **kwargs):
        raise KeyError("internal")

    monkeypatch.setattr(contracts.io, "load_dataset", boom)
    assert main(["validate", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unexpected KeyError" in err and "please report this as a bug" in err and "Traceback" not in err


def test_sample_passes_and_says_what_it_supports(capsys):
    assert main(["validate", str(SAMPLE)]) == 0
    captured = capsys.readouterr()
    assert "every table passes its data contract" in captured.out
    assert "Enough to: attribute, fit, plan." in captured.out
    assert "warning" not in captured.err


def test_for_use_requires_its_tables(tmp_path, capsys):
    for name in ("paths.csv", "channels.csv"):
        (tmp_path / name).write_bytes((SAMPLE / name).read_bytes())
    assert main(["validate", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Enough to: attribute. Not to: fit (needs spend, kpi); plan (needs spend, kpi)." in out
    assert main(["validate", str(tmp_path), "--for", "fit"]) == 2
    err = capsys.readouterr().err
    assert "spend: table missing from" in err and "(needed to fit)" in err


def test_unrelated_files_are_warned_about(tmp_path, capsys):
    for name in ("paths.csv", "channels.csv"):
        (tmp_path / name).write_bytes((SAMPLE / name).read_bytes())
    (tmp_path / "notes.txt").write_text("hi")
    assert main(["validate", str(tmp_path)]) == 0
    assert "warning:" in (err := capsys.readouterr().err) and "['notes.txt']" in err
