"""Save and load a fitted model: ArviZ netCDF for the posterior, JSON for spec, data and fit info (no pickle)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import arviz as az
import numpy as np
import pandas as pd

from mmm.data import ModelData
from mmm.spec import MMMSpec

if TYPE_CHECKING:
    from mmm.results import FittedMMM

POSTERIOR_FILE = "posterior.nc"
MODEL_FILE = "model.json"
FORMAT_VERSION = 1


def save(fitted: FittedMMM, path: str | Path) -> Path:  # FittedMMM only as a type: no import circle
    """Write ``fitted`` to directory ``path`` (created if needed): ``posterior.nc`` and ``model.json``.

    Returns
    -------
    pathlib.Path
        The directory.
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    fitted.idata.to_netcdf(str(path / POSTERIOR_FILE))
    payload = {
        "format_version": FORMAT_VERSION,
        "spec": fitted.spec.to_dict(),
        "info": fitted.info,
        "roi_prior": _frame(fitted.roi_prior),
        "data": _data_to_dict(fitted.data),
    }
    (path / MODEL_FILE).write_text(json.dumps(payload, indent=1, allow_nan=True))
    return path


def read(path: str | Path) -> dict[str, Any]:
    """Read the parts of a fit written by :meth:`FittedMMM.save` (the keyword arguments of ``FittedMMM``); use
    :func:`mmm.load` to get the fit itself.

    Raises
    ------
    FileNotFoundError
        ``path`` lacks ``posterior.nc`` or ``model.json``.
    ValueError
        The files were written by an incompatible version.
    """
    path = Path(path)
    for name in (POSTERIOR_FILE, MODEL_FILE):
        if not (path / name).exists():
            raise FileNotFoundError(f"{path} is not a saved media-mix model: {name} is missing")
    payload = json.loads((path / MODEL_FILE).read_text())
    if payload.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"model.json format_version must be {FORMAT_VERSION}; got {payload.get('format_version')!r}")
    idata = az.from_netcdf(str(path / POSTERIOR_FILE))
    return {
        "data": _data_from_dict(payload["data"]),
        "spec": MMMSpec.from_dict(payload["spec"]),
        "idata": idata,
        "roi_prior": pd.DataFrame(payload["roi_prior"]),
        "info": payload["info"],
    }


def _frame(df: pd.DataFrame) -> dict[str, list[Any]]:
    out = {}
    for col in df.columns:
        values = df[col]
        if pd.api.types.is_datetime64_any_dtype(values):
            out[col] = [v.isoformat() for v in values]
        else:
            out[col] = [v.item() if isinstance(v, np.generic) else v for v in values.tolist()]
    return out


_ARRAYS = (
    "cell_region",
    "cell_channel",
    "spend",
    "spend_scale",
    "revenue",
    "revenue_scale",
    "controls",
    "lift_window",
    "lift_counterfactual",
)


def _data_to_dict(data: ModelData) -> dict[str, Any]:
    out: dict[str, Any] = {
        "weeks": [w.date().isoformat() for w in data.weeks],
        "regions": list(data.regions),
        "channels": list(data.channels),
        "control_names": list(data.control_names),
        "cells": _frame(data.cells),
        "lift_tests": _frame(data.lift_tests),
    }
    for name in _ARRAYS:
        arr = np.asarray(getattr(data, name))
        out[name] = {"shape": list(arr.shape), "dtype": str(arr.dtype), "values": arr.reshape(-1).tolist()}
    return out


def _data_from_dict(payload: dict[str, Any]) -> ModelData:
    arrays = {
        name: np.asarray(payload[name]["values"], dtype=payload[name]["dtype"]).reshape(payload[name]["shape"])
        for name in _ARRAYS
    }
    lift = pd.DataFrame(payload["lift_tests"])
    for col in ("start", "end"):
        if col in lift:
            lift[col] = pd.to_datetime(lift[col])
    cells = pd.DataFrame(payload["cells"])
    return ModelData(
        weeks=pd.DatetimeIndex(pd.to_datetime(payload["weeks"])),
        regions=tuple(payload["regions"]),
        channels=tuple(payload["channels"]),
        cells=cells,
        control_names=tuple(payload["control_names"]),
        lift_tests=lift,
        **arrays,
    )
