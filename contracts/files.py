"""Read one data file safely: only a regular file inside its folder, bounded in size, decoded strictly.

A data folder may come from an upload or from whoever prepared the quarter's export, so the bytes are treated
as hostile until they parse. Before anything is opened the file's type is checked with ``lstat`` (a FIFO would
block ``open``; a device never ends; a symlink may point at a system file); the open itself refuses to follow a
link and the type is checked again on the open descriptor. Sizes are bounded on disk and, for gzip, after
decompression, counting as it streams (the gzip trailer states a size but a hostile file may lie). Text must be
UTF-8 (a UTF-8 byte-order mark is accepted); anything else is refused with the reason rather than guessed.
Every refusal is a :class:`contracts.ContractError` whose problem names the file and what is allowed, and no
message quotes the file's content.
"""

from __future__ import annotations

import csv
import io
import os
import stat
import zlib
from collections import Counter
from pathlib import Path

import pandas as pd

from contracts.errors import ContractError, Problem

#: Largest data file accepted on disk, in bytes (2 GiB); pass ``max_bytes=`` to change it for one call.
MAX_BYTES = 2 * 1024**3
#: Largest size a compressed file may expand to, in bytes (4 GiB); pass ``max_expanded_bytes=``.
MAX_EXPANDED_BYTES = 4 * 1024**3

SUFFIXES = (".parquet", ".csv", ".csv.gz")
_CHUNK = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_CSV_ALLOWED = "a UTF-8 CSV file with a header line and at least one row"


def refuse(path: Path, problem: str, allowed: str) -> ContractError:
    """A :class:`ContractError` about the file ``path`` (its name stands where a table name would)."""
    return ContractError([Problem(str(path), None, problem, allowed)])


def read_bytes(
    path: str | Path,
    *,
    folder: str | Path | None = None,
    max_bytes: int = MAX_BYTES,
    max_expanded_bytes: int = MAX_EXPANDED_BYTES,
) -> bytes:
    """The content of ``path`` (decompressed when it ends in ``.gz``), read only if it is safe to.

    Parameters
    ----------
    path
        The data file.
    folder
        The folder the file must lie in (default: the folder that holds ``path``). A symlink is followed only when
        its target is a regular file inside this folder.
    max_bytes, max_expanded_bytes
        Bounds on the size on disk and the decompressed size, in bytes.

    Raises
    ------
    contracts.ContractError
        Not a regular file inside the folder, too large, or a corrupt gzip stream.
    FileNotFoundError
        ``path`` does not exist.
    """
    path = Path(path)
    real = _checked_real_path(path, Path(folder) if folder is not None else path.parent)
    # O_NOFOLLOW: the path was resolved above, so a link swapped in since then is refused, never followed;
    # O_NONBLOCK: a FIFO swapped in since the check cannot block the open.
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(real, flags)
    except OSError as err:
        raise refuse(path, f"cannot be opened ({err.strerror})", "a readable regular file") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise refuse(path, f"is {_kind(info.st_mode)}", "a regular file")
        _check_size(path, info.st_size, max_bytes, "on disk", "max_bytes")
        raw = _read_at_most(handle, max_bytes + 1)
    _check_size(path, len(raw), max_bytes, "on disk", "max_bytes")  # it grew while we read it
    if path.name.lower().endswith(".gz"):
        return _gunzip(path, raw, max_expanded_bytes)
    return raw


def parse_csv(path: Path, raw: bytes, dtype: dict[str, str]) -> pd.DataFrame:
    """Parse CSV bytes that must be UTF-8; ``dtype`` maps the columns read as text (those present are used)."""
    body, text = _decode(path, raw)
    if not text.strip():
        raise refuse(path, f"is empty ({f'only blank lines, {len(raw)} bytes' if raw else '0 bytes'})", _CSV_ALLOWED)
    header = _header(path, text)
    del text  # pandas parses the (checked) bytes faster than a str
    try:
        return pd.read_csv(
            io.BytesIO(body),
            encoding="utf-8",
            dtype={c: t for c, t in dtype.items() if c in header},
            keep_default_na=False,
            na_values=[""],
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error, ValueError, OverflowError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise refuse(path, f"cannot be parsed as CSV ({first})", _CSV_ALLOWED) from None


def parse_parquet(path: Path, raw: bytes, max_expanded_bytes: int) -> pd.DataFrame:
    """Parse Parquet bytes, refusing a file whose stated uncompressed size is above ``max_expanded_bytes``."""
    allowed = "a Parquet file (e.g. written by pandas.DataFrame.to_parquet)"
    if len(raw) < 12 or not (raw.startswith(_PARQUET_MAGIC) and raw.endswith(_PARQUET_MAGIC)):
        raise refuse(path, "is not a Parquet file (no PAR1 marker at its start and end)", allowed)
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(io.BytesIO(raw)).metadata
        expanded = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    except (pa.ArrowException, OSError, ValueError, TypeError) as err:
        raise refuse(path, f"is a corrupt Parquet file ({type(err).__name__})", allowed) from None
    _check_size(path, expanded, max_expanded_bytes, "uncompressed", "max_expanded_bytes")
    try:
        df = pd.read_parquet(io.BytesIO(raw))
    except (pa.ArrowException, OSError, ValueError, TypeError) as err:
        raise refuse(path, f"is a corrupt Parquet file ({type(err).__name__})", allowed) from None
    duplicated = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
    if duplicated:
        raise refuse(path, f"has duplicated column names {duplicated}", "each column name once")
    return df


# --------------------------------------------------------------------------------------------- internals


def _checked_real_path(path: Path, folder: Path) -> Path:
    try:
        link = os.lstat(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"no such data file: {path}") from None
    except OSError as err:
        raise refuse(path, f"cannot be inspected ({err.strerror})", "a readable regular file") from None
    real = Path(os.path.realpath(path))
    if stat.S_ISLNK(link.st_mode):
        root = Path(os.path.realpath(folder))
        if not real.is_relative_to(root):
            raise refuse(
                path,
                f"is a symbolic link to a file outside the data folder {folder}",
                "a regular file inside the data folder (copy the data in instead of linking to it)",
            )
    try:
        info = os.stat(real)
    except OSError:
        raise refuse(path, "is a broken symbolic link", "a regular file inside the data folder") from None
    if not stat.S_ISREG(info.st_mode):
        raise refuse(path, f"is {_kind(info.st_mode)}", "a regular file")
    return real


def _read_at_most(handle, limit: int) -> bytes:
    # read(limit) would allocate ``limit`` bytes up front (2 GiB by default); read in chunks instead
    out = bytearray()
    while len(out) < limit:
        chunk = handle.read(min(_CHUNK, limit - len(out)))
        if not chunk:
            break
        out += chunk
    return bytes(out)


def _kind(mode: int) -> str:
    kinds = [
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symbolic link"),
    ]
    return next((text for test, text in kinds if test(mode)), "not a regular file")


def _check_size(path: Path, size: int, limit: int, where: str, argument: str) -> None:
    if size > limit:
        raise refuse(
            path,
            f"is {size:,} bytes {where}, above the limit of {limit:,} bytes",
            f"at most {limit:,} bytes (raise the limit with {argument}=)",
        )


def _gunzip(path: Path, raw: bytes, limit: int) -> bytes:
    allowed = "a complete gzip file (e.g. written by gzip or contracts.write_table)"
    if not raw.startswith(_GZIP_MAGIC):
        raise refuse(path, "is not gzip-compressed although its name ends in .gz", f"{allowed}, or rename it")
    out = bytearray()
    data = raw
    try:
        while data:  # a gzip file may hold several members, one after another
            inflater = zlib.decompressobj(wbits=31)
            while True:
                # max_length bounds each step, so a small bomb never expands past the limit in memory
                chunk = inflater.decompress(data, _CHUNK)
                out += chunk
                data = inflater.unconsumed_tail
                if len(out) > limit:
                    _check_size(path, len(out), limit, "once decompressed (or more)", "max_expanded_bytes")
                if inflater.eof or not (data or chunk):
                    break
            if not inflater.eof:
                raise refuse(path, "is truncated (the gzip stream ends early)", allowed)
            data = inflater.unused_data
            if data and not data.startswith(_GZIP_MAGIC):
                raise refuse(path, "has trailing bytes after the gzip stream", allowed)
    except zlib.error as err:
        raise refuse(path, f"is a corrupt gzip file ({err})", allowed) from None
    return bytes(out)


def _decode(path: Path, raw: bytes) -> tuple[bytes, str]:
    """The bytes without a UTF-8 byte-order mark, and their text; refuses anything but clean UTF-8."""
    if raw.startswith(_UTF16_BOMS):
        raise refuse(path, "is encoded as UTF-16", "UTF-8 text (save the file as 'CSV UTF-8')")
    if raw.startswith(_UTF8_BOM):
        raw = raw[len(_UTF8_BOM) :]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise refuse(
            path,
            f"is not valid UTF-8 (byte 0x{raw[err.start]:02x} at line {line}, byte offset {err.start}; "
            "perhaps Latin-1 or Windows-1252)",
            "UTF-8 text (save the file as 'CSV UTF-8')",
        ) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise refuse(
            path,
            f"contains NUL bytes (first at line {line}): binary data, or UTF-16 without a byte-order mark",
            "UTF-8 text (save the file as 'CSV UTF-8')",
        )
    return raw, text


def _header(path: Path, text: str) -> list[str]:
    """The header line's column names as written, refusing duplicates (pandas would rename them ``x.1``)."""
    try:
        names = next(csv.reader(io.StringIO(text.lstrip("\r\n"))), [])
    except csv.Error as err:
        raise refuse(path, f"has an unreadable header line ({err})", _CSV_ALLOWED) from None
    counts = Counter(name.strip() for name in names)
    duplicated = [name for name, n in counts.items() if n > 1]
    if duplicated:
        shown = ", ".join(f"{name!r} ({counts[name]} times)" for name in duplicated)
        raise refuse(path, f"has duplicated column names in its header: {shown}", "each column name once")
    return names
