"""The readiness gate: a plan is issued only from a model whose verdict passes and that was fitted on this data."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

#: The parts of the data a fitted model's answers depend on: a reused posterior must have been fitted on the same.
MODEL_TABLES = ("spend", "kpi", "controls", "lift_tests")


def _digest(*parts: object) -> str:
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            data = np.ascontiguousarray(part, dtype=float).tobytes()
            h.update(f"array{part.shape}".encode())
        else:
            data = str(part).encode("utf-8")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def model_data_hashes(md: object) -> dict[str, str]:
    """Content hashes of the panel a model is fitted on (:class:`mmm.data.ModelData`), per part of
    :data:`MODEL_TABLES`: compare the saved model's own panel with the one this run's tables give."""
    weeks = [str(w.date()) for w in md.weeks]
    cells = list(zip(md.cells["region"], md.cells["channel"], strict=True))
    tests = md.lift_tests.reset_index().drop(columns=["region_index"], errors="ignore")
    return {
        "spend": _digest(weeks, cells, md.spend),
        "kpi": _digest(weeks, md.regions, md.revenue),
        "controls": _digest(weeks, md.control_names, md.controls),
        "lift_tests": _digest(tests.to_csv(index=False, float_format="%.17g")),
    }


@dataclass(frozen=True)
class GateVerdict:
    """Whether a plan may be issued from the model, with every check and its number.

    ``failures`` are sentences naming the failed check and its value, e.g. ``"max_rhat = 1.034 (allowed <= 1.01)"``
    or ``"the reused posterior was fitted on different data: spend (sha256 4f1a… vs 9c02…)"``.
    """

    passed: bool
    failures: list[str] = field(default_factory=list)
    checks: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"passed": self.passed, "failures": list(self.failures), "checks": list(self.checks)}


def _number(value: object) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if np.isfinite(out) else None


def judge(diagnostics: object, model_hashes: dict[str, str] | None, data_hashes: dict[str, str]) -> GateVerdict:
    """The verdict from a fit's :class:`mmm.diagnostics.Diagnostics` and, for a reused posterior, the content hashes of
    the tables it was fitted on against those of this run's data.

    Every measured check counts (R-hat, ESS, divergences, tree depth, predictive coverage, in-sample fit,
    hold-out fit, negative baseline); a check that was not measured (``passed`` is None) is listed, not failed.
    """
    checks, failures = [], []
    for row in diagnostics.table.itertuples():
        passed = (
            None if row.passed is None or (isinstance(row.passed, float) and np.isnan(row.passed)) else bool(row.passed)
        )
        checks.append({"check": row.metric, "value": _number(row.value), "allowed": row.threshold, "passed": passed})
        if passed is False:
            failures.append(f"{row.metric} = {row.value:.4g} (allowed {row.threshold})")
    if model_hashes is not None:
        changed = [
            f"{name} (sha256 {model_hashes.get(name, 'absent')[:12]}… vs {data_hashes.get(name, 'absent')[:12]}…)"
            for name in MODEL_TABLES
            if model_hashes.get(name) != data_hashes.get(name)
        ]
        checks.append({"check": "posterior_data_hash", "value": None, "allowed": "same content", "passed": not changed})
        if changed:
            failures.append("the reused posterior was fitted on different data: " + ", ".join(changed))
    return GateVerdict(not failures, failures, checks)
