"""A small TOML writer for the policy file: scalars, arrays, tables of them, arrays of tables (inline tables inside).

``tomllib`` reads TOML but does not write it; this covers what :class:`optimizer.Policy` holds and refuses the rest.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _string(text: str) -> str:
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:  # control characters are not allowed raw in a TOML string
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _string(key)


def _value(value: object, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)  # the shortest text that reads back to the same float; valid TOML
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, Mapping):  # an inline table, e.g. a group rule's ``of = { objective = ["brand"] }``
        items = [f"{_key(str(k))} = {_value(v, f'{where}.{k}')}" for k, v in value.items() if v is not None]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    if isinstance(value, Sequence):
        return "[" + ", ".join(_value(v, f"{where}[{i}]") for i, v in enumerate(value)) + "]"
    raise TypeError(f"{where}: cannot write a {type(value).__name__} as a TOML scalar")


def _is_table_array(value: object) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str) and all(isinstance(v, Mapping) for v in value)


def _scalars(record: Mapping[str, object], where: str) -> list[str]:
    lines = []
    for key, value in record.items():
        if value is None:
            continue  # TOML has no null: a missing key reads back as the field's default
        if _is_table_array(value) and value:
            raise TypeError(f"{where}.{key}: nested arrays of tables are not supported")
        lines.append(f"{_key(str(key))} = {_value(value, f'{where}.{key}')}")
    return lines


def dump_toml(record: Mapping[str, object]) -> str:
    """TOML text for a record of scalars, tables of scalars and arrays of tables of scalars.

    ``None`` values are left out (TOML has no null). Empty arrays of tables are left out too.

    Examples
    --------
    >>> print(dump_toml({"budget": 1.0, "shares": {"North America": 1.0}, "locked": [{"region": "Asia"}]}), end="")
    budget = 1.0
    <BLANKLINE>
    [shares]
    "North America" = 1.0
    <BLANKLINE>
    [[locked]]
    region = "Asia"
    """
    top = {k: v for k, v in record.items() if not isinstance(v, Mapping) and not _is_table_array(v)}
    blocks = ["\n".join(_scalars(top, "record"))] if top else []
    for key, value in record.items():
        if isinstance(value, Mapping):
            blocks.append("\n".join([f"[{_key(key)}]", *_scalars(value, key)]))
        elif _is_table_array(value):
            for item in value:
                blocks.append("\n".join([f"[[{_key(key)}]]", *_scalars(item, key)]))
    return "\n\n".join(blocks) + "\n"
