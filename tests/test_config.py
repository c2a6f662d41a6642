"""Typed configuration: one declaration, deep validation, notebooks and base.yaml agree with it."""

from __future__ import annotations

import ast
import dataclasses
import math
import typing
from pathlib import Path

import pytest

from analysis.config import (
    Params,
    ParamsError,
    load_params,
    notebook_parameters,
    params_from,
    validate_params,
)
from conftest import ROOT

COEF = {"value": 0.7, "citation": "Santos Silva & Tenreyro (2006)"}

# (case, value of the key, key, words the message must hold)
NESTED_BAD = [
    ("weight_typo", {"ranking_weights": {"presense": 2}}, "ranking_weights.presense", "presence"),
    (
        "weight_nan",
        {"ranking_weights": {"presence": math.nan}},
        "ranking_weights.presence",
        "finite",
    ),
    ("weight_inf", {"ranking_weights": {"ties": math.inf}}, "ranking_weights.ties", "finite"),
    ("weight_negative", {"ranking_weights": {"ties": -1}}, "ranking_weights.ties", ">= 0"),
    ("weights_all_zero", {"ranking_weights": {"ties": 0, "market": 0}}, "ranking_weights", "zero"),
    ("weight_text", {"ranking_weights": {"ties": "high"}}, "ranking_weights.ties", "number"),
    (
        "coef_nan",
        {"gravity_assumed": {"lgdp": {**COEF, "value": math.nan}}},
        "gravity_assumed.lgdp.value",
        "finite",
    ),
    (
        "coef_unknown_term",
        {"gravity_assumed": {"lgdpp": COEF}},
        "gravity_assumed.lgdpp",
        "ldist",
    ),
    (
        "coef_no_citation",
        {"gravity_assumed": {"lgdp": {"value": 0.7}}},
        "gravity_assumed.lgdp.citation",
        "missing",
    ),
    (
        "coef_extra_key",
        {"gravity_assumed": {"lgdp": {**COEF, "se": 0.1}}},
        "gravity_assumed.lgdp.se",
        "value, citation",
    ),
    ("scenario_unknown_key", {"scenario": {"nme": "x"}}, "scenario.nme", "uplifts"),
    (
        "scenario_uplift_sector",
        {"scenario": {"uplifts": [{"sector": "steel", "from": 2026, "to": 2027, "pct": 3}]}},
        "scenario.uplifts[0].sector",
        "unknown sector",
    ),
    (
        "scenario_uplift_order",
        {"scenario": {"uplifts": [{"sector": "all", "from": 2028, "to": 2027, "pct": 3}]}},
        "scenario.uplifts[0]",
        "after",
    ),
    (
        "scenario_shock_nan",
        {"scenario": {"shocks": [{"sector": "all", "year": 2026, "pct": math.nan}]}},
        "scenario.shocks[0].pct",
        "finite",
    ),
    (
        "scenario_agreement_partner",
        {"scenario": {"agreements": [{"partners": ["XXX"], "from": 2027, "pma_growth_pct": 5}]}},
        "scenario.agreements[0].partners[0]",
        "unknown partner",
    ),
    ("noise_inf", {"ranking_noise": math.inf}, "ranking_noise", "finite"),
    ("coverage_nan", {"ranking_min_coverage": math.nan}, "ranking_min_coverage", "finite"),
    ("draws_bool", {"ranking_draws": True}, "ranking_draws", "expected int"),
    ("seed_negative", {"seed": -1}, "seed", ">= 0"),
    ("run_name_newline", {"run_name": "ok\n"}, "run_name", "not a safe file name"),
]


@pytest.mark.parametrize(
    ("case", "layer", "path", "words"), NESTED_BAD, ids=[b[0] for b in NESTED_BAD]
)
def test_nested_values_are_validated_as_deeply_as_scalars(case, layer, path, words):
    with pytest.raises(ParamsError) as info:
        validate_params([(f"{case}.yaml", layer)])
    msg = str(info.value)
    assert msg.startswith(f"{case}.yaml: key '{path}'"), msg
    assert words in msg
    assert info.value.key == next(iter(layer))


def test_a_misspelt_weight_names_the_allowed_keys_before_any_kernel(tmp_path):
    from analysis.reports import plan_batch, run_batch

    bad = tmp_path / "weights.yaml"
    bad.write_text("ranking_weights: {presense: 2}\n")
    jobs = plan_batch(
        ["notebooks/30-partner-ranking.ipynb"], [("params/base.yaml",)], extra_files=[bad]
    )
    with pytest.raises(ParamsError) as info:
        run_batch(jobs, run_id="never", reports_dir=tmp_path / "r", progress=False)
    msg = str(info.value)
    assert "weights.yaml, line 1, key 'ranking_weights.presense'" in msg
    assert "unknown pillar or indicator 'presense'" in msg
    for allowed in ("capacity", "presence", "ties", "pma_in_idn"):
        assert allowed in msg
    assert not (tmp_path / "r" / "never").exists()


def test_each_layer_is_blamed_for_its_own_fault(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("start_year: 2020\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("end_year: 2018\n")
    with pytest.raises(ParamsError, match=r"bad\.yaml: key 'end_year': .*before start_year"):
        load_params(good, bad)


def test_valid_nested_values_stay_plain_dicts_as_written():
    p = load_params(
        ROOT / "params/base.yaml",
        ROOT / "params/scenario-textile-incentive.yaml",
        overrides={"gravity_assumed": {"lgdp": COEF}},
    )
    assert type(p.gravity_assumed["lgdp"]) is dict
    assert p.scenario["uplifts"][0]["from"] == 2026
    assert p.to_dict()["scenario"]["agreements"][0]["partners"] == ["KOR", "JPN"]


# --- params_from: the values actually used -----------------------------------------------


def test_params_from_covers_only_what_the_notebook_declares():
    # The gravity notebook declares no ranking_draws: its provenance must not show one.
    p = params_from({"sector": "pharma", "partners": ["SGP"], "unrelated": 1})
    assert p.to_dict() == {"sector": "pharma", "partners": ["SGP"]}
    assert set(p.origin) == {"sector", "partners"}
    with pytest.raises(AttributeError, match="not declared"):
        p.ranking_draws  # noqa: B018


def test_provenance_table_shows_the_injected_value_not_the_default():
    from analysis.base.environment import provenance_summary

    p = params_from({"ranking_draws": 300, "sector": "textile"})
    table = dict(provenance_summary(p, {}).tables)["Parameters"]
    assert list(table.index) == ["sector", "ranking_draws"]
    assert table.loc["ranking_draws", "value"] == "300"


# --- one declaration: notebooks, base.yaml and settings agree with it ---------------------


def _literal_choices(field) -> tuple[str, ...]:
    ann = field.annotation
    return typing.get_args(ann) if typing.get_origin(ann) is typing.Literal else ()


def _notebooks() -> list[str]:
    return sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("notebook", _notebooks())
def test_notebook_parameters_cells_agree_with_the_declaration(notebook):
    # A cell's default is the declared default, or what params/base.yaml + textile.yaml set
    # (the batch's values, which a report's interactive default may follow).
    shipped = load_params(ROOT / "params/base.yaml", ROOT / "params/textile.yaml").to_dict()
    cell = notebook_parameters(ROOT / notebook)
    assert cell, f"{notebook} has no parameters cell"
    for name, spec in cell.items():
        assert name in Params.model_fields, f"{notebook}: {name} is not declared in config"
        field = Params.model_fields[name]
        default = ast.literal_eval(spec["default"])
        declared = Params.model_validate({name: default}).to_dict()[name]  # validates too
        allowed = (Params().to_dict()[name], shipped[name])
        assert declared in allowed, f"{notebook}: {name} = {default!r}, config says {allowed[0]!r}"
        assert spec["help"], f"{notebook}: {name} lacks a help comment"
        for choice in _literal_choices(field):
            assert choice in spec["help"], f"{notebook}: help of {name} omits {choice!r}"


def test_base_yaml_validates_and_differs_from_the_declaration_only_where_meant():
    base = load_params(ROOT / "params/base.yaml")
    declared = Params()
    differs = {k for k in Params.model_fields if getattr(base, k) != getattr(declared, k)}
    # The batch's run name, the literature coefficients that interactive runs leave off
    # (the report shows the estimated fit beside the assumed one), and a description added
    # to the same baseline scenario.
    assert differs <= {"run_name", "gravity_assumed", "scenario"}, differs
    assert base.scenario["name"] == declared.scenario["name"]
    for f in sorted((ROOT / "params").glob("*.yaml")):
        load_params(ROOT / "params/base.yaml", f)  # every shipped file validates


def test_settings_are_built_from_the_declaration_with_matching_defaults():
    from analysis.data.ledger import LedgerSettings
    from analysis.models.ranking import RankingSettings
    from analysis.studies import ranking as ranking_study
    from analysis.studies.inputs import ledger_settings

    p = load_params(ROOT / "params/base.yaml", ROOT / "params/ci.yaml")
    ranking = ranking_study.settings(p).ranking
    assert ranking.draws == 300 and ranking.seed == p.seed
    assert ranking.outliers == p.ranking_outliers == "winsorise"
    # The model's own defaults equal the declared ones, so the two cannot drift apart.
    plain = RankingSettings()
    for f in dataclasses.fields(RankingSettings):
        for key in (f"ranking_{f.name}", f.name):
            if key in Params.model_fields:
                declared = Params.model_fields[key].get_default(call_default_factory=True)
                assert getattr(plain, f.name) == declared, key
                break
    ledger = ledger_settings(p)
    assert ledger.fx_basis == "apbn" and ledger.fx_fallback == "market"
    assert LedgerSettings().fx_basis == Params.model_fields["fx_basis"].default


# --- layering -------------------------------------------------------------------------------

_MODELS = {"flows", "gravity", "ranking", "partners", "scenarios", "indicators", "pipeline"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_configuration_imports_no_model_and_nothing_imports_back_into_a_cycle():
    src = ROOT / "src" / "analysis"
    for module in (
        "config.py",
        "params.py",
        "base/safe_yaml.py",
        "base/vocab.py",
        "base/paths.py",
    ):
        bad = {m for m in _imports(src / module) if m.split(".")[-1] in _MODELS}
        assert not bad, f"{module} imports models {bad}"
    assert "analysis.params" not in _imports(src / "models/scenarios.py")
    assert "analysis.models.partners" not in _imports(src / "config.py")


def test_cli_version_and_negative_retries(capsys):
    from analysis.cli import main

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("mitra ")
    with pytest.raises(SystemExit) as info:
        main(["batch", "--retries", "-1"])
    assert info.value.code == 2
    assert "--retries" in capsys.readouterr().err


def test_weight_keys_cover_every_indicator_and_pillar_the_ranking_builds(ledger):
    # ranking_weights is validated against the vocabulary; a new indicator must be added
    # there too, or a user could not weight it.
    from analysis.base.vocab import RANKING_INDICATORS, RANKING_PILLARS, REPORT_SECTORS
    from analysis.data.panel import load_panel
    from analysis.models.indicators import build_indicators

    panel = load_panel()
    for sector in REPORT_SECTORS:
        meta = build_indicators(panel, ledger, sector, 2024).meta
        assert set(meta.index) <= set(RANKING_INDICATORS), sector
        assert set(meta["pillar"]) <= set(RANKING_PILLARS), sector
