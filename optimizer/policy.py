"""The company's allocation rules as one validated, immutable object (defaults from DESIGN.md)."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DEFAULT_OBJECTIVE_SHARES = {"acquisition": 0.60, "retention": 0.30, "brand": 0.10}
DEFAULT_REGION_SHARES = {"Asia": 0.35, "Europe": 0.25, "North America": 0.20, "Other": 0.20}
_SHARE_SUM_TOL = 1e-9


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


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
    lam: float = Field(default=0.0, ge=0)
    alpha: float = Field(default=0.10, gt=0, le=1)

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
        Budget as a share of the period's revenue (default 0.12), used when ``budget`` is omitted.
    period_revenue : float, optional
        Revenue expected over the period; required when ``budget`` is omitted.
    objective_shares, region_shares : dict
        Target share of spend per objective (acquisition/retention/brand) and per region.
    objective_tolerance, region_tolerance : float
        Half-width of the band around each share (0 = the shares hold exactly).
    roi_hurdle : float
        Cells whose ROI is probably below it are flagged; in ``hurdle`` mode no spend goes where the
        marginal ROI is below it.
    max_change : float or None
        Maximum relative change of a cell versus current spend (0.30 = ±30%); ``None`` for no limit. Applies to
        cells with current spend > 0; cells with no current spend are bounded by ``cell_rules`` only.
    cell_rules, locked, unavailable : list
        Per-cell absolute bounds, cells held at current spend, cells that cannot be funded.
    mode : {"spend_all", "hurdle"}
        ``spend_all`` spends exactly the budget; ``hurdle`` spends only where marginal ROI ≥ hurdle and
        returns the rest (shares then apply to what is spent).
    risk : Risk
        ``mean`` or mean − λ·CVaR_α over posterior draws.
    """

    budget: float | None = Field(default=None, gt=0)
    budget_share_of_revenue: float = Field(default=0.12, gt=0, le=1)
    period_revenue: float | None = Field(default=None, gt=0)
    objective_shares: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_OBJECTIVE_SHARES))
    objective_tolerance: float = Field(default=0.0, ge=0, le=1)
    region_shares: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_REGION_SHARES))
    region_tolerance: float = Field(default=0.0, ge=0, le=1)
    roi_hurdle: float = Field(default=1.5, ge=0)
    max_change: float | None = Field(default=0.30, ge=0)
    cell_rules: tuple[CellRule, ...] = ()
    locked: tuple[CellRef, ...] = ()
    unavailable: tuple[CellRef, ...] = ()
    mode: Literal["spend_all", "hurdle"] = "spend_all"
    risk: Risk = Field(default_factory=Risk)

    @field_validator("objective_shares")
    @classmethod
    def _objective_names(cls, v: dict[str, float]) -> dict[str, float]:
        bad = sorted(set(v) - set(DEFAULT_OBJECTIVE_SHARES))
        if bad:
            raise ValueError(f"objective_shares keys must be among {list(DEFAULT_OBJECTIVE_SHARES)}; got {bad}")
        return v

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
        return self

    @property
    def budget_amount(self) -> float:
        """The period budget: ``budget``, or ``budget_share_of_revenue × period_revenue``."""
        if self.budget is not None:
            return float(self.budget)
        return float(self.budget_share_of_revenue * self.period_revenue)  # type: ignore[operator]

    def with_budget(self, budget: float) -> Policy:
        """A copy with another budget amount (scenario helper)."""
        return self.model_copy(update={"budget": float(budget)}).validated()

    def validated(self) -> Policy:
        """Re-run validation (``model_copy`` does not)."""
        return Policy.model_validate(self.model_dump())

    @classmethod
    def from_toml(cls, path: str | Path) -> Policy:
        """Read a policy from a TOML file; keys mirror the fields, tables for shares and risk.

        Examples
        --------
        A file such as::

            budget = 1_200_000
            roi_hurdle = 1.5
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
        with Path(path).open("rb") as fh:
            data = tomllib.load(fh)
        return cls.model_validate(data)
