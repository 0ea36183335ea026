"""The policy's linear rules over cells, in one form for every consumer: solver, explanations, prices, rounding.

Every share or amount rule becomes one-sided rows ``coef @ spend >= amount`` (a floor) or ``<= amount`` (a
ceiling), with ``coef = members - ratio * reference`` for a share (``amount`` 0) and ``coef = members`` for an
amount. The budget (``sum(spend)`` within [floor, cap]) and the cell bounds are kept apart: they have their own
prices and words.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizer.groups import SELECTOR_COLUMNS, CellSelector, GroupRule
from optimizer.policy import Policy


@dataclass(frozen=True, eq=False)
class RuleRow:
    """One side of one rule: ``coef @ spend >= amount`` (``side == "floor"``) or ``<= amount`` (``"ceiling"``).

    Attributes
    ----------
    rule : str
        The rule's name, shared by its floor and ceiling, e.g. ``"objective share: acquisition"``.
    side : {"floor", "ceiling"}
    kind : {"share", "amount"}
    members, reference : numpy.ndarray of bool
        The group's cells and, for a share, the cells whose spend it is a share of (all cells: the plan).
    ratio : float
        The share bound (``kind == "share"``), else 0.
    amount : float
        The amount bound in spend units (``kind == "amount"``), else 0.
    label : str
        The rule in words, e.g. ``"objective 'acquisition' share 0.60"``.
    reference_name : str
        What the share is of, in words (``"the plan"``, ``"objective acquisition in region Asia"``).
    builtin : bool
        One of the policy's objective or region shares (as opposed to a declared group rule).
    """

    rule: str
    side: str
    kind: str
    members: np.ndarray
    reference: np.ndarray
    ratio: float
    amount: float
    label: str
    reference_name: str
    builtin: bool = False

    @property
    def coef(self) -> np.ndarray:
        """Coefficients over cells (spend units)."""
        m = self.members.astype(float)
        return m - self.ratio * self.reference.astype(float) if self.kind == "share" else m

    @property
    def structure(self) -> tuple:
        """What fixes the row's sparsity: rebuilt programs only when this changes."""
        return (self.rule, self.side, self.kind, self.members.tobytes(), self.reference.tobytes())

    def holds(self, spend: np.ndarray, tol: float) -> bool:
        value = float(self.coef @ spend)
        return value >= self.amount - tol if self.side == "floor" else value <= self.amount + tol


def builtin_rows(cells: pd.DataFrame, policy: Policy) -> list[RuleRow]:
    """Rows of the policy's objective and region shares (groups with cells only; ``precheck`` handles the rest)."""
    everyone = np.ones(len(cells), dtype=bool)
    rows = []
    for kind, shares, tol in (
        ("objective", policy.objective_shares, policy.objective_tolerance),
        ("region", policy.region_shares, policy.region_tolerance),
    ):
        for name in dict.fromkeys(cells[kind]):
            members = (cells[kind] == name).to_numpy()
            share = float(shares.get(name, 0.0))
            band = f"{share:.2f} ± {tol:.2f}" if tol else f"{share:.2f}"
            label = f"{kind} {name!r} share {band}"
            rule = f"{kind} share: {name}"
            low, high = max(0.0, share - tol), min(1.0, share + tol)
            for side, ratio in (("floor", low), ("ceiling", high)):
                rows.append(RuleRow(rule, side, "share", members, everyone, ratio, 0.0, label, "the plan", True))
    return rows


def _check_names(cells: pd.DataFrame, selector: CellSelector, where: str) -> None:
    for col in SELECTOR_COLUMNS:
        names = getattr(selector, col)
        if names is None:
            continue
        known = list(dict.fromkeys(cells[col]))
        for name in names:
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ValueError(
                    f"{where} selects {col} {name!r}, which the response curves do not have{hint} "
                    f"(known: {', '.join(map(str, known))})"
                )


def _mask(cells: pd.DataFrame, selector: CellSelector | None) -> np.ndarray:
    mask = np.ones(len(cells), dtype=bool)
    if selector is not None:
        for col in SELECTOR_COLUMNS:
            names = getattr(selector, col)
            if names is not None:
                mask &= cells[col].isin(names).to_numpy()
    return mask


def _instances(cells: pd.DataFrame, rule: GroupRule) -> list[tuple[str, np.ndarray, np.ndarray, str]]:
    """(suffix, members, reference, reference name) per instance of the rule (one per value of ``per``)."""
    group, ref = _mask(cells, rule.selector), _mask(cells, rule.of)
    ref_name = rule.of.describe() if rule.of is not None else "the plan"
    if rule.per is None:
        return [("", group, ref, ref_name)]
    out = []
    for value in dict.fromkeys(cells[rule.per]):
        within = (cells[rule.per] == value).to_numpy()
        name = f"{rule.per} {value}" if rule.of is None else f"{ref_name} in {rule.per} {value}"
        out.append((f" [{value}]", group & within, ref & within, name))
    return out


def group_rows(cells: pd.DataFrame, policy: Policy) -> list[RuleRow]:
    """Rows of the policy's declared group rules; a selector naming an unknown region, channel or objective is an
    error (with a did-you-mean)."""
    rows = []
    for rule in policy.group_rules:
        where = f"policy.group_rules[{rule.name!r}]"
        _check_names(cells, rule.selector, where)
        if rule.of is not None:
            _check_names(cells, rule.of, f"{where}.of")
        what = rule.selector.describe()
        for suffix, members, ref, ref_name in _instances(cells, rule):
            name = f"group {rule.name}{suffix}"
            for side, value in (("floor", rule.min_share), ("ceiling", rule.max_share)):
                if value is not None:
                    word = "at least" if side == "floor" else "at most"
                    label = f"group {rule.name!r}{suffix} ({what}) {word} {value:.2f} of {ref_name}"
                    rows.append(
                        RuleRow(f"{name} share", side, "share", members, ref, float(value), 0.0, label, ref_name)
                    )
            for side, value in (("floor", rule.min_spend), ("ceiling", rule.max_spend)):
                if value is not None and np.isfinite(value):
                    word = "at least" if side == "floor" else "at most"
                    label = f"group {rule.name!r}{suffix} ({what}) {word} {value:,.0f}"
                    rows.append(
                        RuleRow(f"{name} spend", side, "amount", members, members, 0.0, float(value), label, "")
                    )
    return rows


def policy_rows(cells: pd.DataFrame, policy: Policy) -> list[RuleRow]:
    """All rule rows of the policy over the cells: built-in shares first, then declared group rules."""
    return [*builtin_rows(cells, policy), *group_rows(cells, policy)]


def row_matrix(rows: list[RuleRow], n_cells: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dense ``(A, low, high)`` with ``low <= A @ spend <= high`` (±inf on the open side), e.g. for rounding."""
    a = np.array([r.coef for r in rows]).reshape(len(rows), n_cells)
    low = np.array([r.amount if r.side == "floor" else -np.inf for r in rows])
    high = np.array([r.amount if r.side == "ceiling" else np.inf for r in rows])
    return a, low, high
