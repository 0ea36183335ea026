"""The quarterly run's config: one TOML file, validated once, with errors that name the file, key, value and rule.

A config has six sections; only ``[data]`` and ``[model]`` are required::

    [data]
    folder = "../data/sample"        # or: sample = true, or: spend = "...", kpi = "...", ... (one form)
    [period]
    weeks = 13                       # first_week = 2025-01-06 (a Monday); default: the week after the data
    [attribution]
    method = "markov"                # order = "auto", n_boot = 200, seed = 1
    [model]
    posterior = "../data/sample/posterior"   # or: fit = true (draws, tune, chains, target_accept, seed, ...)
    [policy]
    file = "policy.toml"             # or the Policy keys inline (budget, objective_shares, roi_hurdle, ...)
    [output]
    unit = 1.0                       # currency = "EUR"

Relative paths resolve against the config file's folder and are stored absolute. What needs the data (a lock on an
unknown channel, a first week inside the data) and whether a saved posterior exists are checked by the run.

>>> cfg = load_config("plans/example.toml")   # doctest: +SKIP
>>> cfg.attribution.method, cfg.period.weeks  # doctest: +SKIP
('markov', 13)
>>> policy = cfg.policy(budget=3_000_000.0)   # doctest: +SKIP
>>> policy = cfg.policy_for(current_spend=2.9e6, revenue=None)   # doctest: +SKIP
"""

from __future__ import annotations

import difflib
import os
import tomllib
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from contracts import TABLES
from optimizer import Policy
from optimizer.toml import dump_toml

#: The bundled sample world (``[data] sample = true``).
SAMPLE_FOLDER = Path(__file__).resolve().parents[1] / "data" / "sample"
#: Largest config or policy file read: a config is a few kilobytes; this refuses a device or a mistaken data file.
MAX_CONFIG_FILE_BYTES = 1_000_000
#: Seeds, as :data:`mmm.sampler.MAX_SEED` (mirrored: importing ``mmm`` loads PyMC, seconds a config must not cost).
MAX_SEED = 2**32 - 1
#: Allowed (low, high) of the sampler's integer settings, as :data:`mmm.sampler.LIMITS` (mirrored, see MAX_SEED).
SAMPLER_LIMITS = {"draws": (1, 100_000), "tune": (0, 100_000), "chains": (1, 64)}
METHODS = ("markov", "shapley", "ordered_shapley", "linear", "last_touch", "first_touch", "none")
BUDGET_SOURCES = ("current_spend", "share_of_revenue")
_FIT_OPTIONS = ("draws", "tune", "chains", "target_accept", "seed", "lift_tests", "attribution_priors")
_CHOICES = {("attribution", "method"): METHODS, ("policy", "budget_from"): BUDGET_SOURCES}


class ConfigError(ValueError):
    """A config that cannot be used; ``problems`` holds one line per problem, each naming file, key and value."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def _int(low: int, high: int) -> Any:
    return Annotated[int, Strict(), Field(ge=low, le=high, description=f"an integer between {low} and {high}")]


_Bool = Annotated[bool, Strict(), Field(description="true or false")]
_Seed = _int(0, MAX_SEED)


def _resolve(value: Path, info: ValidationInfo) -> Path:
    """``value`` against the config's folder (validation context ``base``; the working folder without one)."""
    base = Path((info.context or {}).get("base") or Path.cwd())
    return Path(os.path.normpath(base / Path(value).expanduser()))


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def record(self) -> dict[str, Any]:
        """The section as TOML-ready values (paths and dates as text; ``None`` left out by the writer)."""
        return {k: str(v) if isinstance(v, (Path, date)) else v for k, v in self.model_dump().items()}


class DataConfig(_Section):
    """Where the tables are: one ``folder``, the bundled ``sample``, or one path per table (spend and kpi needed)."""

    folder: Annotated[Path | None, Field(description="the path of a folder of table files")] = None
    sample: _Bool = False
    events: Annotated[Path | None, Field(description="the path of a table file")] = None
    paths: Annotated[Path | None, Field(description="the path of a table file")] = None
    spend: Annotated[Path | None, Field(description="the path of a table file")] = None
    kpi: Annotated[Path | None, Field(description="the path of a table file")] = None
    controls: Annotated[Path | None, Field(description="the path of a table file")] = None
    channels: Annotated[Path | None, Field(description="the path of a table file")] = None
    lift_tests: Annotated[Path | None, Field(description="the path of a table file")] = None

    @field_validator("folder")
    @classmethod
    def _folder_exists(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is None:
            return None
        folder = _resolve(value, info)
        if not folder.is_dir():
            raise ValueError(f"no such data folder: {folder}")
        return folder

    @field_validator(*TABLES)
    @classmethod
    def _file_exists(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is None:
            return None
        path = _resolve(value, info)
        if not path.is_file():
            raise ValueError(f"no such {info.field_name} file: {path}")
        return path

    @model_validator(mode="after")
    def _one_form(self) -> DataConfig:
        tables = self.table_paths()
        forms = [
            f for f, on in (("folder", self.folder), ("sample = true", self.sample), ("table paths", tables)) if on
        ]
        if len(forms) != 1:
            got = " and ".join(forms) if forms else "none of them"
            raise ValueError(
                f'give exactly one of folder = "...", sample = true, or table paths ({", ".join(TABLES)}); got {got}'
            )
        missing = [t for t in ("spend", "kpi") if tables and t not in tables]
        if missing:
            raise ValueError(f"table paths must include spend and kpi (needed to plan); missing {missing}")
        if self.sample and not SAMPLE_FOLDER.is_dir():
            raise ValueError(f"sample = true but the bundled sample is not installed at {SAMPLE_FOLDER}")
        return self

    def table_paths(self) -> dict[str, Path]:
        """The per-table paths given (empty for the folder and sample forms)."""
        return {t: getattr(self, t) for t in TABLES if getattr(self, t) is not None}

    def resolved_folder(self) -> Path | None:
        """The data folder (``folder``, or the bundled sample for ``sample = true``); ``None`` for table paths."""
        if self.folder is not None:
            return self.folder
        return SAMPLE_FOLDER if self.sample else None

    def record(self) -> dict[str, Any]:
        return {k: v for k, v in super().record().items() if v is not False}  # ``sample = false`` is the default


def _iso_date(value: object) -> object:
    if isinstance(value, datetime):  # a TOML datetime or a pandas Timestamp: a date only when it is midnight
        if value.tzinfo is not None or value.time() != datetime.min.time():
            raise ValueError(f"must be a date without a time or time zone, e.g. {value.date().isoformat()}")
        return value.date()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError("must be an ISO date (a Monday), e.g. 2025-01-06") from None
    return value


class PeriodConfig(_Section):
    """The planning period: ``weeks`` weeks from ``first_week`` (a Monday; ``None`` = the week after the data)."""

    first_week: Annotated[date | None, Strict(), Field(description="an ISO date that is a Monday, e.g. 2025-01-06")] = (
        None
    )
    weeks: _int(1, 52) = 13

    @field_validator("first_week", mode="before")
    @classmethod
    def _parse(cls, value: object) -> object:
        return _iso_date(value)

    @field_validator("first_week")
    @classmethod
    def _monday(cls, value: date | None) -> date | None:
        if value is not None and value.weekday() != 0:
            raise ValueError(f"must be a Monday (weeks start on Monday); {value.isoformat()} is a {value:%A}")
        return value


class AttributionConfig(_Section):
    """Multi-touch attribution: ``method`` (``"none"`` skips it), Markov ``order``, bootstrap size and seed."""

    method: Annotated[Literal[METHODS], Field(description=f"one of {', '.join(map(repr, METHODS))}")] = "markov"
    order: Annotated[
        Annotated[int, Strict(), Field(ge=1, le=4)] | Literal["auto"],
        Field(description="an integer between 1 and 4, or 'auto' (chosen by hold-out selection)"),
    ] = "auto"
    n_boot: _int(0, 100_000) = 200
    seed: _Seed = 1


class ModelConfig(_Section):
    """The media-mix model: reuse a saved ``posterior`` folder, or ``fit = true`` with the sampler settings."""

    posterior: Annotated[Path | None, Field(description="the path of a saved posterior folder")] = None
    fit: _Bool = False
    draws: _int(*SAMPLER_LIMITS["draws"]) = 1000
    tune: _int(*SAMPLER_LIMITS["tune"]) = 1000
    chains: _int(*SAMPLER_LIMITS["chains"]) = 4
    target_accept: Annotated[float, Strict(), Field(gt=0, lt=1, description="a number between 0 and 1 (exclusive)")] = (
        0.98
    )
    seed: _Seed = 1
    lift_tests: _Bool = True
    attribution_priors: _Bool = True

    @field_validator("posterior")
    @classmethod
    def _absolute(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        # existence is the run's to check: the example config points at a posterior that a first run writes
        return None if value is None else _resolve(value, info)

    @model_validator(mode="after")
    def _one_source(self) -> ModelConfig:
        if self.posterior is not None and self.fit:
            raise ValueError("posterior and fit = true both given; give exactly one (reuse a saved posterior, or fit)")
        if self.posterior is None and not self.fit:
            raise ValueError('give exactly one of posterior = "path/to/saved/posterior" or fit = true; got neither')
        stray = [k for k in _FIT_OPTIONS if k in self.model_fields_set] if self.posterior is not None else []
        if stray:
            raise ValueError(f"{', '.join(stray)} only apply with fit = true; a saved posterior is reused as it is")
        return self

    def sampler_settings(self) -> dict[str, Any]:
        """Keyword arguments for :class:`mmm.Sampler` (``draws``, ``tune``, ``chains``, ``target_accept``)."""
        return {k: getattr(self, k) for k in ("draws", "tune", "chains", "target_accept")}

    def record(self) -> dict[str, Any]:
        if self.posterior is not None:
            return {"posterior": str(self.posterior)}
        return super().record() | {"fit": True}


def _policy_problems(rules: dict[str, Any]) -> list[str]:
    """One line per problem of ``rules`` as :class:`optimizer.Policy` judges them (the budget may come later)."""
    candidate = dict(rules)
    if "budget" not in candidate and "period_revenue" not in candidate:
        candidate["budget"] = 1.0  # a stand-in: the run sets the amount (budget_from); the rest is checked now
    try:
        Policy.model_validate(candidate)
    except ValidationError as err:
        return [_policy_line(e) for e in err.errors(include_url=False)]
    return []


def _policy_line(error: dict[str, Any]) -> str:
    loc = error["loc"]
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
    msg = _plain(error["msg"])
    if error["type"] == "extra_forbidden" and len(loc) == 1:
        allowed = sorted([*Policy.model_fields, *PolicyConfig.model_fields.keys() - {"rules"}])
        hint = f"allowed keys: {', '.join(allowed)}{_did_you_mean(where, allowed)}"
        return f"{where} = {error['input']!r}: unknown key; {hint}"
    return f"{where} = {error['input']!r}: {msg}" if loc else msg


def _read_toml(path: Path, label: str) -> dict[str, Any]:
    """The parsed TOML of a small, regular, UTF-8 file; every failure is a ConfigError naming ``label`` (and line)."""
    if not path.exists():
        raise ConfigError([f"{label}: no such file ({path})"])
    if not path.is_file():
        raise ConfigError([f"{label}: not a regular file ({path}); give the path of a .toml file"])
    with path.open("rb") as fh:
        raw = fh.read(MAX_CONFIG_FILE_BYTES + 1)
    if len(raw) > MAX_CONFIG_FILE_BYTES:
        raise ConfigError([f"{label}: larger than {MAX_CONFIG_FILE_BYTES:,} bytes; a config is a small TOML file"])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise ConfigError([f"{label}: not UTF-8 text (line {line}, byte {err.start}); save it as UTF-8"]) from None
    return _parse_toml(text, label)


def _parse_toml(text: str, label: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:  # the message carries line and column
        raise ConfigError([f"{label}: not valid TOML: {err}"]) from None


def _tomlish(value: Any) -> Any:
    """Tuples as lists, recursively: the form ``tomllib`` reads back, so written and re-read rules compare equal."""
    if isinstance(value, dict):
        return {k: _tomlish(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_tomlish(v) for v in value]
    return value


class PolicyConfig(_Section):
    """The allocation rules: a policy ``file`` or the :class:`optimizer.Policy` keys inline (``rules``), not both.

    When the rules give neither ``budget`` nor ``period_revenue``, the run supplies the amount: the current period
    spend (``budget_from = "current_spend"``) or a period revenue times ``budget_share_of_revenue``
    (``"share_of_revenue"``). Call the section (``cfg.policy(budget=...)``) for the :class:`optimizer.Policy`.
    """

    file: Annotated[Path | None, Field(description="the path of a policy .toml file")] = None
    budget_from: Annotated[
        Literal[BUDGET_SOURCES], Field(description=f"one of {', '.join(map(repr, BUDGET_SOURCES))}")
    ] = "current_spend"
    rules: dict[str, Any] = Field(default_factory=dict)
    _file_rules: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _inline_keys_are_rules(cls, data: object) -> object:
        # in TOML the Policy keys sit beside file and budget_from; here they are gathered under ``rules``
        if not isinstance(data, dict) or "rules" in data:
            return data
        own = {k: v for k, v in data.items() if k in ("file", "budget_from")}
        return {**own, "rules": {k: v for k, v in data.items() if k not in own}}

    @field_validator("file")
    @classmethod
    def _file_exists(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is None:
            return None
        path = _resolve(value, info)
        if not path.is_file():
            raise ValueError(f"no such policy file: {path}")
        return path

    @field_validator("rules")
    @classmethod
    def _as_toml_values(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _tomlish(value)

    @model_validator(mode="after")
    def _rules_valid(self) -> PolicyConfig:
        if self.file is not None and self.rules:
            raise ValueError(
                f"file and inline policy keys ({', '.join(self.rules)}) both given; give the rules in one place"
            )
        if self.file is not None:
            self._file_rules = _read_toml(self.file, str(self.file))
        problems = _policy_problems(self.policy_rules())
        if problems:
            where = str(self.file) if self.file is not None else None
            raise PydanticCustomError(
                "policy_rules", "{summary}", {"summary": "; ".join(problems), "problems": problems, "file": where}
            )
        return self

    def policy_rules(self) -> dict[str, Any]:
        """The Policy keys: the file's (as read when the config was loaded) or the inline ones."""
        return dict(self._file_rules if self.file is not None else self.rules)

    @property
    def needs_amount(self) -> bool:
        """True when the rules give neither budget nor period_revenue, so the run supplies one (``budget_from``)."""
        rules = self.policy_rules()
        return "budget" not in rules and "period_revenue" not in rules

    def build(self, budget: float | None = None, period_revenue: float | None = None) -> Policy:
        """The :class:`optimizer.Policy`, with the run's ``budget`` or ``period_revenue`` when the rules lack one.

        Raises
        ------
        ValueError
            An amount is passed while the rules fix one, or none is passed while the rules need one.
        """
        rules = self.policy_rules()
        given = {k: v for k, v in (("budget", budget), ("period_revenue", period_revenue)) if v is not None}
        if not self.needs_amount and given:
            raise ValueError(f"the policy rules fix the budget; do not pass {', '.join(given)}")
        if self.needs_amount and not given:
            raise ValueError(
                f"the policy rules give neither budget nor period_revenue (budget_from = {self.budget_from!r}); "
                "pass budget= (current spend) or period_revenue="
            )
        return Policy.model_validate(rules | given)

    __call__ = build

    def for_run(self, current_spend: float, revenue: float | None) -> Policy:
        """The Policy with the amount the run supplies when the rules lack one, as ``budget_from`` says.

        ``"current_spend"``: the budget is ``current_spend``; ``"share_of_revenue"``: the budget is
        ``budget_share_of_revenue × revenue`` (the period's revenue), or ``current_spend`` when ``revenue`` is
        ``None`` (e.g. a check of the policy's cell names before the revenue is known). Rules that fix the amount
        are used as they are.
        """
        if not self.needs_amount:
            return self.build()
        if self.budget_from == "share_of_revenue" and revenue is not None:
            return self.build(period_revenue=revenue)
        return self.build(budget=current_spend)

    def toml_text(self) -> str:
        """``[policy]`` with scalars and inline tables, then one ``[[policy.<key>]]`` per cell, lock or group rule."""
        rules = self.rules
        arrays = {k: v for k, v in rules.items() if isinstance(v, list) and v and all(isinstance(i, dict) for i in v)}
        head = {"file": None if self.file is None else str(self.file), "budget_from": self.budget_from}
        blocks = [dump_toml({"policy": head | {k: v for k, v in rules.items() if k not in arrays}}).rstrip("\n")]
        for key, items in arrays.items():
            for item in items:
                # dump_toml writes a table's values inline (nested tables as { ... }); take the body, set the header
                body = dump_toml({"policy": item}).splitlines()[1:]
                blocks.append("\n".join([f"[[policy.{key}]]", *body]))
        return "\n\n".join(blocks) + "\n"


class OutputConfig(_Section):
    """How allocation.csv is written: amounts rounded to whole ``unit`` of ``currency``."""

    unit: Annotated[float, Strict(), Field(gt=0, allow_inf_nan=False, description="a finite number > 0")] = 1.0
    currency: Annotated[str, Strict(), Field(pattern=r"^[A-Z]{3}$", description="a 3-letter ISO 4217 code")] = "EUR"


class PlanConfig(_Section):
    """The whole config of one quarterly run; ``source`` is the file it came from (``None`` for text)."""

    data: DataConfig
    period: PeriodConfig = Field(default_factory=PeriodConfig)
    attribution: AttributionConfig = Field(default_factory=AttributionConfig)
    model: ModelConfig
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)
    source: Path | None = None

    def resolved(self, **filled: Any) -> PlanConfig:
        """A copy with the run-time defaults filled where the config left them open (today: ``first_week``).

        Paths are already absolute. Values the config sets are kept; an unknown name is a ``TypeError``.
        """
        unknown = sorted(set(filled) - {"first_week"})
        if unknown:
            raise TypeError(f"resolved() got unknown default(s) {unknown}; allowed: ['first_week']")
        period = self.period
        if period.first_week is None and filled.get("first_week") is not None:
            period = PeriodConfig.model_validate(period.model_dump() | {"first_week": filled["first_week"]})
        return self.model_copy(update={"period": period})

    def policy_for(self, current_spend: float, revenue: float | None) -> Policy:
        """The run's Policy: ``self.policy.for_run`` (the amount from ``[policy] budget_from`` when not fixed)."""
        return self.policy.for_run(current_spend, revenue)

    def to_toml(self) -> str:
        """The config as TOML that :func:`load_config_text` reads back equal (paths absolute; ``source`` left out)."""
        sections = {name: getattr(self, name).record() for name in ("data", "period", "attribution", "model", "output")}
        return dump_toml(sections) + "\n" + self.policy.toml_text()


def load_config(path: str | Path) -> PlanConfig:
    """Read and validate a config file; relative paths in it resolve against its folder.

    Raises
    ------
    ConfigError
        The file is missing, not UTF-8, not TOML, or breaks a rule; one line per problem, each naming the file,
        ``[section] key``, the value received and what is allowed.
    """
    path = Path(path)
    data = _read_toml(path, str(path))
    base = Path(os.path.abspath(path.parent))
    return _validate(data, base, source=Path(os.path.abspath(path)), label=str(path))


def load_config_text(text: str, base: Path, *, source: Path | None = None) -> PlanConfig:
    """Validate config text as :func:`load_config` does; relative paths resolve against ``base``."""
    label = str(source) if source is not None else "<config text>"
    return _validate(_parse_toml(text, label), Path(os.path.abspath(base)), source=source, label=label)


def _validate(data: dict[str, Any], base: Path, source: Path | None, label: str) -> PlanConfig:
    if "source" in data:
        raise ConfigError([f"{label}: source = {data['source']!r}: unknown section or key; {_sections_hint('source')}"])
    try:
        return PlanConfig.model_validate({**data, "source": source}, context={"base": base})
    except ValidationError as err:
        raise ConfigError(_problem_lines(err, label)) from None


def _plain(msg: str) -> str:
    for prefix, into in (("Value error, ", ""), ("Input should be ", "must be ")):
        if msg.startswith(prefix):
            msg = into + msg[len(prefix) :]
    return msg


def _did_you_mean(word: str, options: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(str(word), list(options), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _sections_hint(word: str) -> str:
    sections = [s for s in PlanConfig.model_fields if s != "source"]
    return f"allowed sections: {', '.join(sections)}{_did_you_mean(word, sections)}"


def _problem_lines(err: ValidationError, label: str) -> list[str]:
    lines: list[str] = []
    seen: set[tuple[Any, ...]] = set()
    for e in err.errors(include_url=False):
        loc, kind = e["loc"], e["type"]
        if kind == "policy_rules":
            where = e["ctx"]["file"] or label
            lines += [f"{where}: [policy] {p}" for p in e["ctx"]["problems"]]
            continue
        key = loc[:2]
        if key in seen:
            continue  # one line per key (a union type reports each alternative)
        seen.add(key)
        lines.append(_problem_line(e, label))
    return lines


def _problem_line(e: dict[str, Any], label: str) -> str:
    loc, kind, value = e["loc"], e["type"], e.get("input")
    if not loc:
        return f"{label}: {_plain(e['msg'])}"
    section = loc[0]
    if len(loc) == 1:
        if kind == "extra_forbidden":
            return f"{label}: {section} = {value!r}: unknown section or key; {_sections_hint(section)}"
        if kind == "missing":
            return f"{label}: [{section}] section is missing; it is required"
        if kind in ("model_type", "model_attributes_type", "dict_type"):
            return f"{label}: {section} = {value!r}: must be a table ([{section}])"
        return f"{label}: [{section}] {_plain(e['msg'])}"
    name = loc[1]
    model = PlanConfig.model_fields[section].annotation
    allowed_keys = [k for k in model.model_fields if k != "rules"]
    if kind == "extra_forbidden":
        hint = f"allowed keys: {', '.join(allowed_keys)}{_did_you_mean(name, allowed_keys)}"
        return f"{label}: [{section}] {name} = {value!r}: unknown key; {hint}"
    if kind == "value_error":
        return f"{label}: [{section}] {name} = {value!r}: {_plain(e['msg'])}"
    field = model.model_fields.get(str(name))
    allowed = field.description if field is not None and field.description else _plain(e["msg"])
    hint = _did_you_mean(value, _CHOICES[(section, name)]) if (section, name) in _CHOICES else ""
    return f"{label}: [{section}] {name} = {value!r}: must be {allowed}{hint}"
