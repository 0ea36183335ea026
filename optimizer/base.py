"""The validated, immutable base of the optimizer's rule objects (policy, cell and group rules)."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, model_validator


def _strict_number(value: object, where: str, allow_inf: bool = False) -> object:
    """Refuse booleans, text and non-finite numbers before pydantic coerces them (``True`` would become 1.0)."""
    if value is None:
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{where} must be a number; got {type(value).__name__} {value!r}")
    if math.isnan(value) or (math.isinf(value) and not allow_inf):
        allowed = "a finite number (or inf for no limit)" if allow_inf else "a finite number"
        raise ValueError(f"{where} must be {allowed}; got {value!r}")
    return value


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Fields that may be ``inf`` (meaning "no limit").
    _inf_allowed: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _strict_numbers(cls, data: object) -> object:
        if not isinstance(data, dict):
            return data
        for name, info in cls.model_fields.items():
            if name not in data:
                continue
            value, kind = data[name], info.annotation
            where = f"{cls.__name__}.{name}"
            if kind in (float, float | None):
                _strict_number(value, where, name in cls._inf_allowed)
            elif kind == dict[str, float] and isinstance(value, dict):
                for key, share in value.items():
                    _strict_number(share, f"{where}[{key!r}]")
        return data
