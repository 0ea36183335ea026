"""Data: the bundled sample, or tables uploaded as CSV/Parquet and validated by ``contracts`` before anything uses them.

Uploads are parsed as data only (never executed), at most :data:`MAX_UPLOAD_BYTES` a file. A set of uploads replaces
the session's dataset only when every table passes its contract and the tables agree with each other; otherwise the
errors are listed and the previous dataset stays.
"""

from __future__ import annotations

import hashlib
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

import contracts
from app_pages import common

#: Tables a marketer may upload, in the order shown; a plan needs the first three.
UPLOAD_TABLES = ("spend", "kpi", "channels", "controls", "paths", "lift_tests")
REQUIRED = ("spend", "kpi", "channels")
MAX_UPLOAD_BYTES = 50 * 1024**2
#: Largest decompressed size of an uploaded ``.csv.gz``.
MAX_EXPANDED_BYTES = 200 * 1024**2
_SUFFIXES = (".csv.gz", ".parquet", ".csv")


@dataclass(frozen=True)
class UploadResult:
    """The validated dataset (``None`` when anything failed), the errors and the warnings, one line each."""

    active: common.ActiveData | None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _suffix(name: str) -> str | None:
    lower = name.lower()
    return next((s for s in _SUFFIXES if lower.endswith(s)), None)


def _read_one(table: str, name: str, raw: bytes, folder: Path) -> tuple[object | None, list[str], list[str]]:
    """One uploaded table validated against its contract: (frame or None, errors, warnings)."""
    if len(raw) > MAX_UPLOAD_BYTES:
        size = f"{len(raw) / 1024**2:.1f} MB"
        return None, [f"{table} ({name}): the file is {size}; at most {MAX_UPLOAD_BYTES // 1024**2} MB per file"], []
    suffix = _suffix(name)
    if suffix is None:
        return None, [f"{table} ({name}): not a table file; allowed: {', '.join(_SUFFIXES)}"], []
    path = folder / f"{table}{suffix}"
    path.write_bytes(raw)

    def named(text: str) -> str:  # messages name the uploaded file, not the temporary copy
        return text.replace(str(path), name).replace(str(folder), "upload")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", contracts.DataWarning)
        try:
            frame = contracts.load_table(path, table, max_bytes=MAX_UPLOAD_BYTES, max_expanded_bytes=MAX_EXPANDED_BYTES)
        except contracts.ContractError as err:
            return None, [f"{name}: {named(str(p))}" for p in err.problems], []
        except (ValueError, OSError) as err:
            return None, [f"{table} ({name}): {named(str(err))}"], []
    return frame, [], [f"{table} ({name}): {named(str(w.message))}" for w in caught]


def validate_uploads(files: dict[str, tuple[str, bytes]]) -> UploadResult:
    """Validate uploaded tables: ``{table: (file name, bytes)}`` → a dataset, or every problem found.

    Each table is checked against its contract (``contracts.load_table``), then the tables against each other
    (``contracts.Dataset``: regions, weeks, channels). Nothing is returned unless all of it passes.
    """
    errors: list[str] = []
    unknown = sorted(set(files) - set(UPLOAD_TABLES))
    if unknown:
        errors.append(f"unknown table(s) {unknown}; allowed: {list(UPLOAD_TABLES)}")
    missing = [t for t in REQUIRED if t not in files]
    if missing:
        errors.append(f"missing table(s) {missing}: a plan needs {', '.join(REQUIRED)}")
    tables, notes = {}, []
    with tempfile.TemporaryDirectory(prefix="upload-") as tmp:
        for table in [t for t in UPLOAD_TABLES if t in files]:
            name, raw = files[table]
            frame, errs, warns = _read_one(table, name, raw, Path(tmp))
            errors += errs
            notes += warns
            if frame is not None:
                tables[table] = frame
    if errors:
        return UploadResult(None, errors, notes)
    try:
        data = contracts.Dataset(**tables)
    except contracts.ContractError as err:
        return UploadResult(None, [str(p) for p in err.problems], notes)
    except ValueError as err:
        return UploadResult(None, [str(err)], notes)
    digest = hashlib.sha256()
    for table in sorted(files):
        digest.update(table.encode() + b"\0" + files[table][1])
    names = {t: files[t][0] for t in sorted(files)}
    label = "uploaded: " + ", ".join(f"{t} = {n}" for t, n in names.items())
    return UploadResult(common.ActiveData("upload:" + digest.hexdigest()[:16], label, data, None, names), [], notes)


def _use(result: UploadResult) -> None:
    st.session_state["upload_errors"] = result.errors
    st.session_state["upload_warnings"] = result.warnings
    if result.active is not None:
        st.session_state["dataset"] = result.active
        st.session_state.pop("policy", None)
        st.session_state.pop("report", None)


def _upload_form() -> None:
    with st.form("upload", clear_on_submit=False):
        st.write(
            f"CSV (optionally .csv.gz) or Parquet, at most {MAX_UPLOAD_BYTES // 1024**2} MB a file. "
            "spend, kpi and channels are needed; the others are optional."
        )
        uploads = {
            table: st.file_uploader(table, type=["csv", "gz", "parquet"], key=f"upload_{table}")
            for table in UPLOAD_TABLES
        }
        if st.form_submit_button("Validate and use these tables", type="primary"):
            files = {t: (f.name, f.getvalue()) for t, f in uploads.items() if f is not None}
            _use(validate_uploads(files))


def render() -> None:
    st.title("Data")
    active = common.active_data()
    st.caption(f"In use: {active.label}")
    errors = st.session_state.get("upload_errors") or []
    if errors:
        st.error(
            "The uploaded tables were not loaded (the previous data stay in use):\n\n"
            + "\n".join(f"- {line}" for line in errors)
        )
    for line in st.session_state.get("upload_warnings") or []:
        st.warning(line)
    source = st.radio("Source", ["Bundled sample", "Upload tables"], horizontal=True, key="data_source")
    if source == "Bundled sample":
        if active.key != "sample" and st.button("Use the bundled sample again"):
            st.session_state.pop("dataset", None)
            st.session_state.pop("policy", None)
            st.session_state["upload_errors"] = []
            st.rerun()
    else:
        _upload_form()
    data = common.active_data().data
    counts = {name: len(frame) for name, frame in data.tables().items()}
    st.subheader("Tables")
    st.dataframe({"table": list(counts), "rows": list(counts.values())}, hide_index=True)
    shown = st.selectbox("Preview", list(counts), key="data_preview")
    if shown:
        st.dataframe(data.tables()[shown].head(200), hide_index=True, width="stretch")


if __name__ == "__main__":
    common.run_page(render)
