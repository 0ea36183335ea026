"""The run config: the example loads; each bad config fails with a message naming file, key, value and rule."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from optimizer import Policy
from planner.config import SAMPLE_FOLDER, ConfigError, PlanConfig, load_config, load_config_text

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "plans" / "example.toml"

MINIMAL = """
[data]
sample = true
[model]
fit = true
"""


def _write(folder: Path, text: str, name: str = "plan.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _error(folder: Path, text: str) -> str:
    path = _write(folder, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(str(path)), message  # every problem names the file
    return message


def test_example_loads_with_documented_values():
    cfg = load_config(EXAMPLE)
    assert cfg.source == EXAMPLE
    assert cfg.data.folder == SAMPLE_FOLDER
    assert cfg.data.resolved_folder() == SAMPLE_FOLDER
    assert cfg.period.weeks == 13 and cfg.period.first_week is None
    assert (cfg.attribution.method, cfg.attribution.order, cfg.attribution.n_boot, cfg.attribution.seed) == (
        "markov",
        "auto",
        200,
        1,
    )
    # the shipped posterior may not exist yet: its path is resolved, its existence is the run's to check
    assert cfg.model.posterior == REPO / "data" / "sample" / "posterior"
    assert not cfg.model.fit
    assert cfg.policy.file == REPO / "plans" / "policy.toml"
    assert cfg.policy.needs_amount and cfg.policy.budget_from == "current_spend"
    assert (cfg.output.unit, cfg.output.currency) == (1.0, "EUR")


def test_example_policy_is_the_company_default():
    policy = load_config(EXAMPLE).policy(budget=3_000_000.0)
    assert isinstance(policy, Policy)
    assert policy == Policy(budget=3_000_000.0)  # 60/30/10, 35/25/20/20, hurdle 1.5, max change 0.3
    assert policy.objective_shares == {"acquisition": 0.6, "retention": 0.3, "brand": 0.1}
    assert policy.region_shares == {"Asia": 0.35, "Europe": 0.25, "North America": 0.2, "Other": 0.2}
    assert (policy.roi_hurdle, policy.max_change) == (1.5, 0.3)


def test_policy_amount_comes_from_the_run_only_when_the_rules_lack_it(tmp_path):
    cfg = load_config(EXAMPLE)
    with pytest.raises(ValueError, match="neither budget nor period_revenue"):
        cfg.policy()
    assert cfg.policy(period_revenue=10_000_000.0).budget_amount == pytest.approx(1_200_000.0)
    fixed = load_config(_write(tmp_path, MINIMAL + "[policy]\nbudget = 5e5\n"))
    assert fixed.policy().budget == 5e5 and not fixed.policy.needs_amount
    with pytest.raises(ValueError, match="fix the budget"):
        fixed.policy(budget=1.0)


def test_policy_for_takes_the_amount_budget_from_names(tmp_path):
    spend = load_config_text(MINIMAL, base=tmp_path)
    assert spend.policy_for(current_spend=2e6, revenue=3e7).budget_amount == 2e6
    share = load_config_text(MINIMAL + '[policy]\nbudget_from = "share_of_revenue"\n', base=tmp_path)
    assert share.policy_for(current_spend=2e6, revenue=3e7).budget_amount == pytest.approx(0.12 * 3e7)
    assert share.policy_for(current_spend=2e6, revenue=None).budget_amount == 2e6
    fixed = load_config_text(MINIMAL + "[policy]\nbudget = 5e5\n", base=tmp_path)
    assert fixed.policy_for(current_spend=2e6, revenue=3e7).budget_amount == 5e5


def test_defaults_of_a_minimal_config(tmp_path):
    cfg = load_config(_write(tmp_path, MINIMAL))
    assert cfg.data.sample and cfg.data.resolved_folder() == SAMPLE_FOLDER
    assert cfg.model.sampler_settings() == {"draws": 1000, "tune": 1000, "chains": 4, "target_accept": 0.98}
    assert (cfg.model.seed, cfg.model.lift_tests, cfg.model.attribution_priors) == (1, True, True)
    assert cfg.policy.rules == {} and cfg.policy.file is None
    assert cfg.policy(budget=1e6) == Policy(budget=1e6)


def test_relative_paths_resolve_against_the_config_folder(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "spend.csv").write_text("week,region,channel,spend\n")
    (tmp_path / "data" / "kpi.csv").write_text("week,region,revenue\n")
    (tmp_path / "rules.toml").write_text("budget = 100.0\n")
    plans = tmp_path / "plans"
    plans.mkdir()
    text = """
[data]
spend = "../data/spend.csv"
kpi = "../data/kpi.csv"
[model]
posterior = "../runs/posterior"
[policy]
file = "../rules.toml"
"""
    cfg = load_config(_write(plans, text))
    assert cfg.data.resolved_folder() is None
    assert cfg.data.table_paths() == {"spend": tmp_path / "data" / "spend.csv", "kpi": tmp_path / "data" / "kpi.csv"}
    assert cfg.model.posterior == tmp_path / "runs" / "posterior"
    assert cfg.policy.file == tmp_path / "rules.toml"
    assert load_config_text(text, base=plans) == cfg.model_copy(update={"source": None})


@pytest.mark.parametrize(
    "extra",
    [
        "",
        '[period]\nfirst_week = 2025-01-06\nweeks = 4\n[attribution]\nmethod = "shapley"\norder = 2\nn_boot = 0\n',
        '[output]\nunit = 1000\ncurrency = "USD"\n',
        """[policy]
budget_from = "share_of_revenue"
roi_hurdle = 2.0
max_change = inf
objective_shares = { acquisition = 0.5, retention = 0.4, brand = 0.1 }
risk = { kind = "cvar", lam = 0.5, alpha = 0.2 }
[[policy.locked]]
region = "Asia"
channel = "sponsorship_events"
[[policy.cell_rules]]
region = "North America"
channel = "meta_ads"
max_spend = 1e5
[[policy.group_rules]]
name = "social commerce"
channel = ["tiktok_shop", "kol_affiliate"]
of = { objective = ["acquisition"] }
max_share = 0.6
""",
    ],
)
def test_to_toml_round_trip(tmp_path, extra):
    cfg = load_config_text(MINIMAL + extra, base=tmp_path)
    text = cfg.to_toml()
    assert load_config_text(text, base=tmp_path) == cfg
    assert load_config_text(text, base=Path("/elsewhere")) == cfg  # paths are written absolute
    assert cfg.policy(budget=1e6) == load_config_text(text, base=tmp_path).policy(budget=1e6)


def test_to_toml_round_trip_of_the_example():
    cfg = load_config(EXAMPLE)
    assert load_config_text(cfg.to_toml(), base=Path("/"), source=cfg.source) == cfg


def test_resolved_fills_first_week_only_when_open(tmp_path):
    cfg = load_config_text(MINIMAL, base=tmp_path)
    filled = cfg.resolved(first_week=date(2026, 1, 5))
    assert filled.period.first_week == date(2026, 1, 5) and cfg.period.first_week is None
    assert load_config_text(filled.to_toml(), base=tmp_path) == filled
    assert filled.resolved(first_week=date(2026, 4, 6)).period.first_week == date(2026, 1, 5)
    assert cfg.resolved(first_week=pd.Timestamp("2026-01-05")).period.first_week == date(2026, 1, 5)
    with pytest.raises(ValueError, match="Monday"):
        cfg.resolved(first_week=date(2026, 1, 6))
    with pytest.raises(ValueError, match="without a time"):
        cfg.resolved(first_week=pd.Timestamp("2026-01-05 10:00"))
    with pytest.raises(TypeError, match="allowed"):
        cfg.resolved(weeks=4)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # unknown key, with the allowed keys and a did-you-mean
        (
            MINIMAL + "drawz = 10\n",
            ["[model] drawz = 10: unknown key", "allowed keys: posterior, fit, draws", "'draws'"],
        ),
        ("[data]\nsample = true\n[modle]\nfit = true\n", ["modle", "unknown section", "did you mean 'model'"]),
        # wrong type and out of range
        (MINIMAL + 'draws = "many"\n', ["[model] draws = 'many': must be an integer between 1 and 100000"]),
        (MINIMAL + "draws = 2.0\n", ["[model] draws = 2.0: must be an integer between 1 and 100000"]),
        (MINIMAL + "chains = 0\n", ["[model] chains = 0: must be an integer between 1 and 64"]),
        (MINIMAL + "target_accept = 1.5\n", ["[model] target_accept = 1.5: must be a number between 0 and 1"]),
        (MINIMAL + "[period]\nweeks = 53\n", ["[period] weeks = 53: must be an integer between 1 and 52"]),
        (MINIMAL + "[period]\nfirst_week = 2025-01-07\n", ["[period] first_week", "Monday", "Tuesday"]),
        (MINIMAL + '[period]\nfirst_week = "soon"\n', ["[period] first_week = 'soon'", "ISO date"]),
        (MINIMAL + "[attribution]\norder = 5\n", ["[attribution] order = 5", "between 1 and 4, or 'auto'"]),
        (MINIMAL + "[attribution]\nn_boot = -1\n", ["[attribution] n_boot = -1", "between 0 and 100000"]),
        (MINIMAL + "[output]\nunit = 0\n", ["[output] unit = 0: must be a finite number > 0"]),
        (MINIMAL + "[output]\nunit = true\n", ["[output] unit = True: must be a finite number > 0"]),
        (MINIMAL + "[model]\n", ["Cannot declare", "not valid TOML"]),  # a table given twice: the line is named
        # unknown attribution method, with a did-you-mean
        (MINIMAL + '[attribution]\nmethod = "markow"\n', ["[attribution] method = 'markow'", "'shapley'", "'markov'?"]),
        # posterior and fit both, or neither
        ('[data]\nsample = true\n[model]\nfit = true\nposterior = "p"\n', ["[model]", "both given"]),
        ("[data]\nsample = true\n[model]\nfit = false\n", ["[model]", "got neither"]),
        ('[data]\nsample = true\n[model]\nposterior = "p"\ndraws = 10\n', ["[model]", "draws only apply with fit"]),
        # data forms
        (MINIMAL.replace("sample = true", 'sample = true\nfolder = "."'), ["[data]", "got folder and sample = true"]),
        ("[model]\nfit = true\n", ["[data] section is missing"]),
        # policy: unknown key, shares that do not sum, inline and file both
        (MINIMAL + "[policy]\nroi_hurdel = 2.0\n", ["[policy] roi_hurdel = 2.0: unknown key", "'roi_hurdle'?"]),
        (
            MINIMAL + "[policy]\nregion_shares = { Asia = 0.5, Europe = 0.6 }\n",
            ["[policy]", "region_shares must sum to 1", "got 1.1"],
        ),
        (MINIMAL + '[policy]\nrisk = { kind = "mean", lam = 2.0 }\n', ["[policy]", "lam", "cvar"]),
        (MINIMAL + '[policy]\nbudget_from = "revenue"\n', ["[policy] budget_from = 'revenue'", "'share_of_revenue'"]),
    ],
)
def test_bad_config_names_key_value_and_rule(tmp_path, text, expected):
    message = _error(tmp_path, text)
    for part in expected:
        assert part in message, f"{part!r} not in {message!r}"


def test_every_problem_is_reported_one_per_line(tmp_path):
    message = _error(tmp_path, MINIMAL + "draws = 0\ntune = -1\n[output]\nunit = -1\n")
    lines = message.splitlines()
    assert len(lines) == 3
    assert all(line.startswith(str(tmp_path / "plan.toml")) for line in lines)


def test_missing_data_folder_names_the_resolved_path(tmp_path):
    message = _error(tmp_path, MINIMAL.replace("sample = true", 'folder = "no/such"'))
    assert f"[data] folder = 'no/such': no such data folder: {tmp_path / 'no' / 'such'}" in message


def test_missing_table_file_names_the_resolved_path(tmp_path):
    text = '[data]\nspend = "s.csv"\nkpi = "k.csv"\n[model]\nfit = true\n'
    message = _error(tmp_path, text)
    assert f"no such spend file: {tmp_path / 's.csv'}" in message
    assert f"no such kpi file: {tmp_path / 'k.csv'}" in message


def test_table_paths_need_spend_and_kpi(tmp_path):
    (tmp_path / "events.csv").write_text("x\n")
    message = _error(tmp_path, '[data]\nevents = "events.csv"\n[model]\nfit = true\n')
    assert "must include spend and kpi" in message


def test_missing_policy_file_names_the_resolved_path(tmp_path):
    message = _error(tmp_path, MINIMAL + '[policy]\nfile = "rules/q1.toml"\n')
    assert f"[policy] file = 'rules/q1.toml': no such policy file: {tmp_path / 'rules' / 'q1.toml'}" in message


def test_policy_file_and_inline_keys_both(tmp_path):
    _write(tmp_path, "roi_hurdle = 2.0\n", "rules.toml")
    message = _error(tmp_path, MINIMAL + '[policy]\nfile = "rules.toml"\nroi_hurdle = 1.0\n')
    assert "[policy] file and inline policy keys (roi_hurdle) both given" in message


def test_problems_in_the_policy_file_name_that_file(tmp_path):
    rules = _write(tmp_path, "[objective_shares]\nacquisition = 0.9\nretention = 0.3\nbrand = 0.1\n", "rules.toml")
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, MINIMAL + '[policy]\nfile = "rules.toml"\n'))
    assert str(info.value).startswith(f"{rules}: [policy] objective_shares must sum to 1")


def test_unreadable_files(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.toml: no such file"):
        load_config(tmp_path / "nope.toml")
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b"[data]\nsample = true\n# caf\xe9\n")
    with pytest.raises(ConfigError, match=r"latin\.toml: not UTF-8 text \(line 3"):
        load_config(latin)
    with pytest.raises(ConfigError, match=r"not valid TOML: .*line 1"):
        load_config(_write(tmp_path, "[data\n"))
    with pytest.raises(ConfigError, match="source = 'x': unknown section or key"):
        load_config(_write(tmp_path, 'source = "x"\n' + MINIMAL))


def test_models_are_frozen(tmp_path):
    cfg = load_config_text(MINIMAL, base=tmp_path)
    with pytest.raises(ValueError):
        cfg.period.weeks = 4  # type: ignore[misc]
    assert isinstance(cfg, PlanConfig)
