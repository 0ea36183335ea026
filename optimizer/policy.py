"""The company's allocation rules as one validated, immutable object (defaults from ``contracts.defaults``)."""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from contracts.curves import PARAMETER_RANGE
from contracts.defaults import (
    BUDGET_SHARE_OF_REVENUE,
    MAX_CHANGE,
    OBJECTIVE_SHARES,
    OBJECTIVES,
    REGION_SHARES,
    ROI_HURDLE,
)
from optimizer.base import _Frozen
from optimizer.groups import GroupRule
from optimizer.toml import dump_toml

_SHARE_SUM_TOL = 1e-9
#: Bumped when the meaning of a field changes, so old fingerprints cannot match new policies by accident.
_FINGERPRINT_VERSION = "policy-v1"


#: Largest budget or period revenue: the optimizer scales by the budget, and amounts beyond the response curves'
#: parameter range cannot be planned meaningfully.
MAX_AMOUNT = PARAMETER_RANGE[1]
#: Largest ROI hurdle (revenue per unit of spend); a larger one is a typo, and it enters the program as a coefficient.
MAX_ROI_HURDLE = 1e6
#: Largest policy file read (a policy is a few kilobytes; this refuses a device or a mistaken data file).
MAX_POLICY_FILE_BYTES = 1_000_000
#: Smallest CVaR tail: the tail's weight λ / (α · draws) enters the program, and below this it swamps the mean.
MIN_RISK_ALPHA = 1e-6
#: Largest CVaR weight λ: beyond it the mean term is lost in rounding and the program is badly scaled.
MAX_RISK_LAM = 1e6


def _read_toml(path: Path) -> dict:
    """The parsed TOML of a regular, small, UTF-8 policy file; every failure names the file (and line)."""
    if not path.exists():
        raise FileNotFoundError(f"no such policy file: {path}")
    if path.is_dir():
        raise ValueError(f"{path} is a directory; give the path of a policy .toml file")
    if not path.is_file():
        raise ValueError(f"{path} is not a regular file (a device, pipe or socket); give a policy .toml file")
    size = path.stat().st_size
    if size > MAX_POLICY_FILE_BYTES:
        raise ValueError(f"{path} is {size:,} bytes; a policy file may be at most {MAX_POLICY_FILE_BYTES:,} bytes")
    with path.open("rb") as fh:
        raw = fh.read(MAX_POLICY_FILE_BYTES + 1)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{path} is not UTF-8 text (byte {err.start}); save the policy file as UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        # tomllib's message carries the line and column but not the file
        raise ValueError(f"{path}: not valid TOML: {err}") from None


class CellRule(_Frozen):
    """Bounds for one (region, channel) cell, in spend units over the planning period.

    ``min_spend`` / ``max_spend`` are absolute; ``max_change`` overrides the policy-wide relative limit
    (e.g. 0.5 = ±50% of current spend) for this cell.
    """

    region: str
    channel: str
    min_spend: float | None = Field(default=None, ge=0)
    max_spend: float | None = Field(default=None, ge=0)
    max_change: float | None = Field(default=None, ge=0)

    _inf_allowed: ClassVar[frozenset[str]] = frozenset({"max_spend", "max_change"})

    @model_validator(mode="after")
    def _min_below_max(self) -> CellRule:
        if self.min_spend is not None and self.max_spend is not None and self.min_spend > self.max_spend:
            raise ValueError(
                f"cell_rules[{self.region}/{self.channel}]: min_spend {self.min_spend:g} must be <= "
                f"max_spend {self.max_spend:g}"
            )
        return self


class CellRef(_Frozen):
    """A (region, channel) reference, used for locked and unavailable cells."""

    region: str
    channel: str


class Risk(_Frozen):
    """Risk setting: ``mean`` maximises expected revenue; ``cvar`` maximises ``mean - lam * CVaR_alpha``.

    CVaR is taken of the loss ``-revenue`` over posterior draws (Rockafellar–Uryasev), so the objective is
    expected revenue plus ``lam`` times the mean of the worst ``alpha`` fraction of draws' revenue.
    """

    kind: Literal["mean", "cvar"] = "mean"
    lam: float = Field(default=0.0, ge=0, le=MAX_RISK_LAM)
    alpha: float = Field(default=0.10, ge=MIN_RISK_ALPHA, le=1)

    @model_validator(mode="after")
    def _lam_needs_cvar(self) -> Risk:
        if self.kind == "mean" and self.lam != 0:
            raise ValueError(f"risk.lam = {self.lam:g} is only used with risk.kind = 'cvar'; set kind='cvar'")
        return self


def _check_shares(name: str, shares: dict[str, float], tolerance: float) -> None:
    bad = {k: v for k, v in shares.items() if not (0 <= v <= 1) or not math.isfinite(v)}
    if bad:
        raise ValueError(f"{name} values must be within [0, 1]; got {bad}")
    total = sum(shares.values())
    n = len(shares)
    # with a band of ±tolerance per group the targets may sum to anything within 1 ± n * tolerance
    if abs(total - 1.0) > n * tolerance + _SHARE_SUM_TOL:
        raise ValueError(
            f"{name} must sum to 1 (± {n} groups × tolerance {tolerance:g}); got {total:.6g} from {shares}"
        )


class Policy(_Frozen):
    """Allocation rules for one planning period.

    Parameters
    ----------
    budget : float, optional
        Total marketing budget for the period. When omitted, ``budget_share_of_revenue * period_revenue``.
    budget_share_of_revenue : float
        Budget as a share of the period's revenue (default ``contracts.BUDGET_SHARE_OF_REVENUE``), used when
        ``budget`` is omitted.
    period_revenue : float, optional
        Revenue expected over the period; required when ``budget`` is omitted.
    objective_shares, region_shares : dict
        Target share of spend per objective (``contracts.OBJECTIVES``) and per region; default
        ``contracts.OBJECTIVE_SHARES`` and ``contracts.REGION_SHARES``.
    objective_tolerance, region_tolerance : float
        Half-width of the band around each share (0 = the shares hold exactly).
    roi_hurdle : float
        Cells whose ROI is probably below it are flagged; in ``hurdle`` mode no spend goes where the
        mROI is below it. Default ``contracts.ROI_HURDLE``.
    max_change : float or None
        Maximum relative change of a cell versus current spend (0.30 = ±30%, default ``contracts.MAX_CHANGE``);
        ``None`` for no limit (``inf`` means the same and is stored as ``None``). Applies to cells with current
        spend > 0; cells with no current spend are bounded by ``cell_rules`` only.
    cell_rules, locked, unavailable : list
        Per-cell absolute bounds, cells held at current spend, cells that cannot be funded.
    mode : {"spend_all", "hurdle"}
        ``spend_all`` spends exactly the budget; ``hurdle`` spends only where marginal ROI ≥ hurdle and
        returns the rest (shares then apply to what is spent).
    risk : Risk
        ``mean`` or mean − λ·CVaR_α over posterior draws.
    group_rules : list of GroupRule
        Rules an analyst declares on named groups of cells (:mod:`optimizer.groups`): a share of the plan or of
        another group, or amounts, optionally repeated per region, channel or objective.
    """

    budget: float | None = Field(default=None, gt=0, le=MAX_AMOUNT)
    budget_share_of_revenue: float = Field(default=BUDGET_SHARE_OF_REVENUE, gt=0, le=1)
    period_revenue: float | None = Field(default=None, gt=0, le=MAX_AMOUNT)
    objective_shares: dict[str, float] = Field(default_factory=lambda: dict(OBJECTIVE_SHARES))
    objective_tolerance: float = Field(default=0.0, ge=0, le=1)
    region_shares: dict[str, float] = Field(default_factory=lambda: dict(REGION_SHARES))
    region_tolerance: float = Field(default=0.0, ge=0, le=1)
    roi_hurdle: float = Field(default=ROI_HURDLE, ge=0, le=MAX_ROI_HURDLE)
    max_change: float | None = Field(default=MAX_CHANGE, ge=0)
    cell_rules: tuple[CellRule, ...] = ()
    locked: tuple[CellRef, ...] = ()
    unavailable: tuple[CellRef, ...] = ()
    mode: Literal["spend_all", "hurdle"] = "spend_all"
    risk: Risk = Field(default_factory=Risk)
    group_rules: tuple[GroupRule, ...] = ()

    _inf_allowed: ClassVar[frozenset[str]] = frozenset({"max_change"})

    @field_validator("objective_shares")
    @classmethod
    def _objective_names(cls, v: dict[str, float]) -> dict[str, float]:
        bad = sorted(set(v) - set(OBJECTIVES))
        if bad:
            raise ValueError(f"objective_shares keys must be among {list(OBJECTIVES)}; got {bad}")
        return v

    @field_validator("max_change")
    @classmethod
    def _unlimited_is_none(cls, v: float | None) -> float | None:
        # an infinite limit is no limit: one spelling, so equal rules compare (and fingerprint) equal
        return None if v is not None and math.isinf(v) else v

    @model_validator(mode="after")
    def _validate_rules(self) -> Policy:
        _check_shares("objective_shares", self.objective_shares, self.objective_tolerance)
        _check_shares("region_shares", self.region_shares, self.region_tolerance)
        if self.budget is None and self.period_revenue is None:
            raise ValueError(
                "budget is not set and period_revenue is missing: give budget, or period_revenue so the budget is "
                f"budget_share_of_revenue ({self.budget_share_of_revenue:g}) × period_revenue"
            )
        locked = {(c.region, c.channel) for c in self.locked}
        clash = sorted(locked & {(c.region, c.channel) for c in self.unavailable})
        if clash:
            raise ValueError(f"cells cannot be both locked and unavailable: {clash}")
        keys = [(r.region, r.channel) for r in self.cell_rules]
        dups = sorted({k for k in keys if keys.count(k) > 1})
        if dups:
            raise ValueError(f"cell_rules lists these cells more than once: {dups}")
        names = [g.name for g in self.group_rules]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"group_rules names must be unique; used more than once: {twice}")
        return self

    @property
    def budget_amount(self) -> float:
        """The period budget: ``budget``, or ``budget_share_of_revenue × period_revenue``."""
        if self.budget is not None:
            return float(self.budget)
        return float(self.budget_share_of_revenue * self.period_revenue)  # type: ignore[operator]

    def with_budget(self, budget: float) -> Policy:
        """A copy with another budget amount (scenario helper)."""
        # no float() here: validation refuses True or "1e6" instead of reading them as 1.0 and 1,000,000
        return self.model_copy(update={"budget": budget}).validated()

    def validated(self) -> Policy:
        """Re-run validation (``model_copy`` does not)."""
        return Policy.model_validate(self.model_dump())

    @classmethod
    def from_toml(cls, path: str | Path) -> Policy:
        """Read a policy from a TOML file; keys mirror the fields, tables for shares and risk.

        Omitted keys take their defaults; ``max_change = inf`` means no limit. :meth:`to_toml` writes this format.

        Examples
        --------
        A file such as::

            budget = 1_200_000
            roi_hurdle = 2.0
            mode = "spend_all"
            [objective_shares]
            acquisition = 0.6
            retention = 0.3
            brand = 0.1
            [[locked]]
            region = "Asia"
            channel = "sponsorship_events"
            [risk]
            kind = "cvar"
            lam = 0.5
            alpha = 0.1
        """
        path = Path(path)
        data = _read_toml(path)
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            # the same errors, with the file in the title: "1 validation error for Policy (policy file q3.toml)"
            title = f"{cls.__name__} (policy file {path})"
            raise ValidationError.from_exception_data(title, err.errors(include_url=False)) from None

    @classmethod
    def from_toml_text(cls, text: str) -> Policy:
        """Read a policy from TOML text, e.g. the output of :meth:`to_toml`.

        Examples
        --------
        >>> policy = Policy(budget=1_000_000.0, mode="hurdle")
        >>> Policy.from_toml_text(policy.to_toml()) == policy
        True
        """
        return cls.model_validate(tomllib.loads(text))

    def to_toml(self) -> str:
        """The policy as TOML text that :meth:`from_toml_text` (or :meth:`from_toml`, once written) reads back equal.

        Every field is written, defaults included, so the file states the whole rule set; fields that are
        ``None`` are left out (they default to ``None``), except ``max_change = None``, written ``inf``.

        Examples
        --------
        >>> print(Policy(budget=1_000_000.0).to_toml().splitlines()[0])
        budget = 1000000.0
        """
        data = self.model_dump()
        if data["max_change"] is None:
            data["max_change"] = math.inf
        # a group rule reads best with its name first
        data["group_rules"] = [{"name": g.pop("name"), **g} for g in data["group_rules"]]
        return dump_toml(data)

    def fingerprint(self) -> str:
        """A stable hash of the rules: SHA-256 of the canonical JSON of the fields (sorted keys), as hex.

        Equal policies have equal fingerprints in every process and version of Python; any change of a field
        changes it. The order of shares does not matter (as for ``==``); the order of cell rules and locks does.

        Examples
        --------
        >>> Policy(budget=1.0).fingerprint() == Policy(budget=1).fingerprint()
        True
        """
        # python-mode dump: JSON mode would write inf as null and so mix it up with None
        fields = self.model_dump()
        if not fields["group_rules"]:
            del fields["group_rules"]  # policies without group rules keep the fingerprints they had before them
        payload = {"version": _FINGERPRINT_VERSION, "policy": fields}
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=True)
        return hashlib.sha256(text.encode("ascii")).hexdigest()
