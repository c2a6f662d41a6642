"""Parameters declared once and one behaviour on every route (issue 19 items 1-2, 23 item 6)."""

from __future__ import annotations

import argparse
import importlib
import re
from pathlib import Path

import pytest

from analysis.base.vocab import DEFAULT_FX_BASIS, DEFAULT_SEED
from analysis.config import GROUPS, Params, ParamsError, load_params, params_from

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "analysis"
STUDY_NAMES = ("audit", "flows", "gravity", "ranking", "brief")


def _src_lines(pattern: str) -> list[str]:
    rx = re.compile(pattern)
    return [
        f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
        for p in sorted(SRC.rglob("*.py"))
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if rx.search(line)
    ]


def _parameters_cell(notebook: Path) -> dict[str, object]:
    import ast

    text = notebook.read_text(encoding="utf-8")
    cell = text.split('# %% tags=["parameters"]\n', 1)[1].split("\n# %%", 1)[0]
    return {
        node.target.id: ast.literal_eval(node.value)
        for node in ast.parse(cell).body
        if isinstance(node, ast.AnnAssign)
    }


# --- a walk of ranking_weights, fx_basis and seed ---------------------------------------------


def test_ranking_weights_default_is_declared_once():
    # The one declaration: Params.ranking_weights (the "sector_value_added": 0.25 default).
    found = _src_lines(r"sector_value_added\"?\s*[:=]\s*0\.25")
    assert found == [f for f in found if f.startswith("src/analysis/config.py")] and found, found
    # No study or model re-declares a pillar weight default.
    assert not _src_lines(r"pillar_weights=\{\"sector\""), "a re-declared pillar weight"


def test_fx_basis_and_seed_are_declared_once():
    assert not _src_lines(r"fx_basis\s*(:\s*str\s*)?=\s*[\"']apbn"), "fx_basis re-declared"
    seeds = _src_lines(str(DEFAULT_SEED))
    # data/synthetic.py's SYNTHETIC_SEED draws the SYNTHETIC example data, not a parameter.
    where = [s.split(":")[0] for s in seeds]
    assert sorted(where) == sorted(
        ["src/analysis/data/synthetic.py", "src/analysis/base/vocab.py"]
    )
    assert Params.model_fields["seed"].default == DEFAULT_SEED
    assert Params.model_fields["fx_basis"].default == DEFAULT_FX_BASIS


def test_notebook_cells_mirror_the_declaration():
    # papermill needs literals in the parameters cell: they must equal the one declaration.
    for nb in sorted((ROOT / "notebooks").glob("*.py")):
        for key, value in _parameters_cell(nb).items():
            if key in ("run_name", "partners", "sector", "partner", "scenario", "end_year"):
                continue  # notebook-specific examples, overridden by every params set
            assert value == Params.model_fields[key].get_default(call_default_factory=True), (
                nb.name,
                key,
            )


def test_fx_basis_reaches_the_ledger_of_every_study():
    from analysis.studies.inputs import ledger_settings

    p = load_params("base", overrides={"fx_basis": "market", "fx_fallback": "none"})
    s = ledger_settings(p)
    assert (s.fx_basis, s.fx_fallback) == ("market", None)
    for nb in sorted((ROOT / "notebooks").glob("*.py")):
        text = nb.read_text(encoding="utf-8")
        assert "fx_basis" in _parameters_cell(nb), nb.name
        assert "inputs(p)" in text and "build_ledger" not in text, nb.name


def test_every_group_key_is_a_declared_parameter():
    from analysis.config import group_keys

    for name in GROUPS:
        keys = group_keys(name)
        assert keys and set(keys.values()) <= set(Params.model_fields), name
    assert Params().ranking.weights["sector_value_added"] == 0.25


# --- one study interface ----------------------------------------------------------------------


@pytest.mark.parametrize("name", STUDY_NAMES)
def test_every_study_has_the_same_verbs(name):
    import inspect

    from analysis import studies

    module = studies.study(name)
    assert callable(module.settings) and callable(module.run)
    result_type = inspect.signature(module.run).return_annotation
    cls = getattr(module, result_type) if isinstance(result_type, str) else result_type
    for verb in ("key_findings", "tables", "figures", "summary", "write_tables"):
        assert callable(getattr(cls, verb, None)), f"{name}: {cls.__name__} lacks {verb}()"
    # settings come from the params by one function, for the defaults and for any file
    assert module.settings(load_params("base", "textile")) is not None


# --- one behaviour on every route -------------------------------------------------------------


def test_a_file_that_sets_one_weight_changes_one_weight(tmp_path):
    f = tmp_path / "one.yaml"
    f.write_text("ranking_weights: {sector: 3}\n")
    p = load_params("base", f)
    assert p.ranking_weights["sector"] == 3
    assert p.ranking_weights["sector_value_added"] == 0.25
    assert "one.yaml" in p.origin["ranking_weights"] and "base" in p.origin["ranking_weights"]
    # an empty mapping clears; a scenario is one record, replaced whole
    g = tmp_path / "none.yaml"
    g.write_text("gravity_priors: {}\n")
    assert load_params("base", g).gravity_priors == {}
    sc = load_params("base", "scenario-textile-incentive").scenario
    assert sc["name"] != "no-policy-change"


def _kernel(params_cell: str, injected: str, **ns):
    history = ["", params_cell, injected, "p = params_from(globals())"]
    return {"In": history, "Out": {}, "__name__": "__main__", "plt": argparse, **ns}


def test_plain_papermill_fails_on_an_unknown_injected_key():
    ns = _kernel('sector: str = "textile"\n', "# Parameters\nranking_weigths = 3\n",
                 sector="textile", ranking_weigths=3)  # fmt: skip
    with pytest.raises(ParamsError) as err:
        params_from(ns)
    assert str(err.value).startswith("injected parameters: key 'ranking_weigths': unknown key")
    # the same words as mitra's for the same key
    with pytest.raises(ParamsError) as cli:
        load_params("base", overrides={"ranking_weigths": 3})
    assert str(err.value).split(": ", 1)[1] == str(cli.value).split(": ", 1)[1]


def test_plain_papermill_accepts_a_known_key_of_another_notebook():
    # e.g. partners from a sector file into the brief, which does not declare it: papermill
    # warns, mitra's params-file check accepts it too (another notebook declares it).
    ns = _kernel('sector: str = "textile"\n', "# Parameters\npartners = ['SGP']\n",
                 sector="textile", partners=["SGP"])  # fmt: skip
    assert params_from(ns).sector == "textile"


def test_the_injected_check_looks_only_at_plain_values():
    ns = _kernel('sector: str = "textile"\n', "", sector="textile", np=argparse, f=print)
    assert params_from(ns).sector == "textile"
    with pytest.raises(ParamsError, match="'typo'"):
        params_from({**ns, "typo": 1.5})


@pytest.mark.parametrize(("code", "words"), [("IDN", "host"), ("ATA", "not a candidate")])
def test_a_brief_partner_must_be_a_candidate(code, words):
    with pytest.raises(ParamsError, match=words):
        load_params("base", overrides={"partner": code})


def _cli_args(*argv: str) -> argparse.Namespace:
    from analysis.cli import _parser

    return _parser().parse_args(["run", "notebooks/30-partner-ranking.ipynb", *argv])


def test_mitra_takes_papermills_flags():
    from analysis.cli import _overrides

    args = _cli_args(
        *("-f", "params/base.yaml", "-p", "ranking_draws", "300"),
        *("-p", "interpolate", "True", "-r", "run_name", "007"),
        *("-y", "ranking_weights: {sector: 3}", "-y", "ranking_weights: {ties: 2}"),
    )
    got = _overrides(args)
    assert args.params == ["params/base.yaml"]
    assert got == {"ranking_draws": 300, "interpolate": True, "run_name": "007",
                   "ranking_weights": {"sector": 3, "ties": 2}}  # fmt: skip
    old = _cli_args("-p", "params/textile.yaml")  # the old meaning of -p, kept
    assert _overrides(old) == {} and old.params == ["params/textile.yaml"]


def test_mitra_refuses_an_override_the_notebook_does_not_declare():
    from analysis.cli import _with_overrides
    from analysis.reports import plan_batch

    jobs = plan_batch(["notebooks/20-gravity.ipynb"], [("params/base.yaml",)])
    with pytest.raises(ParamsError, match="not declared by the parameters cell"):
        _with_overrides(jobs, {"ranking_draws": 300})
    with pytest.raises(ParamsError, match="unknown key"):
        _with_overrides(jobs, {"gravity_drawz": 300})
    (job,) = _with_overrides(jobs, {"gravity_draws": 300})
    assert job.overrides == {"gravity_draws": 300}


def test_study_modules_import():
    for name in STUDY_NAMES:
        importlib.import_module(f"analysis.studies.{name}")


def test_the_batch_passes_the_merged_weights_to_the_notebook(tmp_path):
    from analysis.reports import plan_batch
    from analysis.reports.plan import validate_jobs

    one = tmp_path / "one.yaml"
    one.write_text("ranking_weights: {sector: 3}\n")
    jobs = plan_batch(["notebooks/30-partner-ranking.ipynb"], [("params/base.yaml", str(one))])
    (given,) = validate_jobs(jobs).values()
    assert given["ranking_weights"]["sector"] == 3
    assert given["ranking_weights"]["sector_value_added"] == 0.25


@pytest.mark.parametrize("code", ["IDN", "ATA"])
def test_mitra_refuses_a_brief_partner_before_any_kernel(code, tmp_path, monkeypatch, capsys):
    import analysis.base.paths
    from analysis.cli import main

    monkeypatch.setattr(analysis.base.paths, "REPORTS", tmp_path)
    argv = ["run", "notebooks/40-partner-brief.ipynb", "-f", "params/base.yaml"]
    rc = main([*argv, "-p", "partner", code, "--run-id", "x", "--no-progress"])
    assert rc == 2
    assert f"key 'partner': {code}" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


# --- settings defaults: read from the declaration, never repeated -----------------------------

#: Literal defaults that still repeat a declared value, with the reason each stays for now.
#: Model settings cannot read ``analysis.config`` (models take plain arguments); their
#: defaults are the model's own fallbacks when used outside the pipeline.
REPEATS_ALLOWED = {
    "ForecastSettings.interpolate": "model (analysis.models.flows) default",
    "Findings.language": "presentation default (English unless told)",
    "Table.language": "presentation default (English unless told)",
    "RankingSettings.normalisation": "model (analysis.models.ranking) default",
    "RankingSettings.aggregation": "model (analysis.models.ranking) default",
    "RankingSettings.imputation": "model (analysis.models.ranking) default",
    "RankingSettings.hub_treatment": "model (analysis.models.ranking) default",
    "RankingSettings.hub_discount": "model (analysis.models.ranking) default",
    "RankingSettings.outliers": "model (analysis.models.ranking) default",
    "RankingSettings.draws": "model (analysis.models.ranking) default",
    "RankingSettings.noise": "model (analysis.models.ranking) default",
    "RankingStudySettings.sector": "studies/ranking.py, being reworked by issue 20",
    "RankingStudySettings.end_year": "studies/ranking.py, being reworked by issue 20",
    "GravityStudySettings.sector": "studies/gravity/, being reworked by issue 21",
}


def _repeated_defaults() -> list[str]:
    """Dataclass fields in src/ whose literal default equals a declared parameter's default."""
    import ast

    declared = {
        k: f.get_default(call_default_factory=True) for k, f in Params.model_fields.items()
    }
    found = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
            if not any("dataclass" in ast.unparse(d) for d in cls.decorator_list):
                continue
            for st in cls.body:
                if not (isinstance(st, ast.AnnAssign) and isinstance(st.target, ast.Name)):
                    continue
                try:
                    value = ast.literal_eval(st.value) if st.value is not None else None
                except ValueError:
                    continue  # a name or a call: not a repeated literal
                name = st.target.id
                keys = [k for k in (name, f"ranking_{name}", f"gravity_{name}") if k in declared]
                if value is not None and any(value == declared[k] for k in keys):
                    found.append(f"{cls.name}.{name}")
    return found


def test_settings_defaults_are_not_repeated():
    # e.g. FlowStudySettings.start_year reads declared("start_year"), not 2015 again.
    new = [f for f in _repeated_defaults() if f not in REPEATS_ALLOWED]
    assert not new, f"defaults that repeat the declaration (use config.declared): {new}"


def test_declared_is_the_declaration():
    from analysis.config import declared
    from analysis.data.ledger import LedgerSettings
    from analysis.studies.flows import FlowStudySettings

    assert declared("start_year") == Params.model_fields["start_year"].default
    assert FlowStudySettings().horizon == declared("horizon") == Params().horizon
    assert LedgerSettings().fx_fallback == Params().fx_fallback
    assert isinstance(declared("partners"), tuple)
