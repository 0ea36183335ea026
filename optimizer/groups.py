"""Group rules an analyst declares: named sets of cells bounded as a share of the plan or of a group, or in amounts.

A rule selects cells by region, channel and/or objective (a cell belongs when it matches every selector given) and
bounds the group's spend over the planning period:

* ``min_share`` / ``max_share``: as a share of the whole plan, or of the group ``of`` selects;
* ``min_spend`` / ``max_spend``: in currency over the period.

``per = "region"`` (or ``"channel"``, ``"objective"``) repeats the rule within each region: the group and its
reference are both restricted to that region, and an absolute amount applies to each region separately. Examples in
TOML (``Policy.from_toml``)::

    [[group_rules]]                      # social commerce at most 60% of acquisition
    name = "social commerce"
    channel = ["tiktok_shop", "kol_affiliate"]
    of = { objective = ["acquisition"] }
    max_share = 0.60

    [[group_rules]]                      # each region keeps its acquisition share within 55-65%
    name = "acquisition in each region"
    objective = ["acquisition"]
    per = "region"
    min_share = 0.55
    max_share = 0.65

    [[group_rules]]                      # Europe brand at least 200,000
    name = "Europe brand"
    region = ["Europe"]
    objective = ["brand"]
    min_spend = 200_000
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from optimizer.base import _Frozen

#: The cell columns a rule may select on or repeat over.
SELECTOR_COLUMNS = ("region", "channel", "objective")


def _as_names(value: object) -> object:
    """One name or a list of names, as a tuple (a bare string is one name, not its characters)."""
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    return value


class CellSelector(_Frozen):
    """Cells matching every given selector: ``region``, ``channel``, ``objective`` (each one name or a list)."""

    region: tuple[str, ...] | None = None
    channel: tuple[str, ...] | None = None
    objective: tuple[str, ...] | None = None

    @field_validator("region", "channel", "objective", mode="before")
    @classmethod
    def _names(cls, value: object) -> object:
        return _as_names(value)

    @field_validator("region", "channel", "objective")
    @classmethod
    def _not_empty(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None and (len(value) == 0 or any(not str(v).strip() for v in value)):
            raise ValueError(f"a selector lists at least one non-blank name; got {list(value)}")
        return value

    def describe(self) -> str:
        """The selection in words, e.g. ``channel tiktok_shop, kol_affiliate in objective acquisition``."""
        parts = [f"{col} {', '.join(names)}" for col in SELECTOR_COLUMNS if (names := getattr(self, col)) is not None]
        return " in ".join(parts) if parts else "all cells"


class GroupRule(CellSelector):
    """A bound on the spend of a named group of cells (see the module docstring for examples).

    Parameters
    ----------
    name : str
        The rule's name, used in shadow prices and infeasibility explanations.
    region, channel, objective : str or list of str, optional
        Selectors: a cell belongs to the group when it matches every one given.
    of : CellSelector, optional
        The reference of ``min_share``/``max_share``; default the whole plan.
    per : {"region", "channel", "objective"}, optional
        Repeat the rule within each value of that column (group and reference restricted to it).
    min_share, max_share : float, optional
        Bounds on the group's share of the reference's spend, in [0, 1].
    min_spend, max_spend : float, optional
        Bounds on the group's spend over the period, in currency (per value of ``per`` when set).
    """

    name: str = Field(min_length=1, max_length=200)
    of: CellSelector | None = None
    per: Literal["region", "channel", "objective"] | None = None
    min_share: float | None = Field(default=None, ge=0, le=1)
    max_share: float | None = Field(default=None, ge=0, le=1)
    min_spend: float | None = Field(default=None, ge=0, le=1e15)
    max_spend: float | None = Field(default=None, ge=0)

    _inf_allowed: ClassVar[frozenset[str]] = frozenset({"max_spend"})

    @model_validator(mode="after")
    def _bounds(self) -> GroupRule:
        where = f"group_rules[{self.name!r}]"
        if all(getattr(self, k) is None for k in ("min_share", "max_share", "min_spend", "max_spend")):
            raise ValueError(f"{where} bounds nothing: give min_share, max_share, min_spend and/or max_spend")
        for low, high in (("min_share", "max_share"), ("min_spend", "max_spend")):
            lo, hi = getattr(self, low), getattr(self, high)
            if lo is not None and hi is not None and lo > hi:
                raise ValueError(f"{where}: {low} {lo:g} must be <= {high} {hi:g}")
        if self.of is not None and self.min_share is None and self.max_share is None:
            raise ValueError(f"{where}: 'of' names the reference of a share; give min_share or max_share with it")
        if self.per is not None and self.of is not None and getattr(self.of, self.per) is not None:
            raise ValueError(
                f"{where}: per = {self.per!r} already restricts the reference to each {self.per}; "
                f"drop {self.per} from 'of'"
            )
        return self

    @property
    def selector(self) -> CellSelector:
        """The group's cells as a :class:`CellSelector`."""
        return CellSelector(region=self.region, channel=self.channel, objective=self.objective)
