"""Parameters: layering, validation before any kernel starts, agreement with notebooks."""

from __future__ import annotations

import pytest

from analysis.config import Params, ParamsError, load_params, notebook_parameters
from analysis.reports import (
    BRIEF_NOTEBOOK,
    DEFAULT_NOTEBOOKS,
    DEFAULT_SETS,
    plan_batch,
    run_batch,
    validate_jobs,
)
from conftest import ROOT


def test_layers_later_wins_and_origin_is_recorded():
    p = load_params(ROOT / "params/base.yaml", ROOT / "params/textile.yaml")
    assert p.sector == "textile"
    assert "TWN" in p.partners  # textile.yaml overrides base.yaml's list
    assert p.origin["partners"] == "params/textile.yaml"
    assert p.origin["start_year"] == "params/base.yaml"
    with pytest.raises(AttributeError):
        p.nope  # noqa: B018
    with pytest.raises((AttributeError, TypeError)):
        p.values["sector"] = "x"  # frozen


def test_chemical_and_pharma_both_draw_on_the_combined_sector():
    chem = load_params(ROOT / "params/base.yaml", ROOT / "params/chemical.yaml")
    pharma = load_params(ROOT / "params/base.yaml", ROOT / "params/pharma.yaml")
    assert "chem_pharma" in chem.sectors and "chem_pharma" in pharma.sectors


BAD = [
    ("unknown_key", "sectr: textile\n", "sectr", "unknown key"),
    ("wrong_type", "start_year: '2015'\n", "start_year", "expected int"),
    ("bool_for_int", "end_year: yes\n", "end_year", "expected int"),
    ("year_range", "start_year: 1890\n", "start_year", "out of range"),
    ("unknown_sector", "sector: steel\n", "sector", "must be one of"),
    ("unknown_partner", "partners: [SGP, XXX]\n", "partners", "unknown partner"),
    ("partners_not_list", "partners: SGP\n", "partners", "expected list"),
    ("path_separator", "run_name: a/b\n", "run_name", "unsafe run name"),
    ("dot_dot", "run_name: ..evil\n", "run_name", "unsafe run name"),
    ("fx_basis", "fx_basis: jisdor\n", "fx_basis", "must be one of"),
    ("end_before_start", "start_year: 2020\nend_year: 2018\n", "end_year", "before"),
]


@pytest.mark.parametrize(("case", "text", "key", "words"), BAD, ids=[b[0] for b in BAD])
def test_bad_params_name_file_and_key(tmp_path, case, text, key, words):
    bad = tmp_path / f"{case}.yaml"
    bad.write_text(text)
    with pytest.raises(ParamsError) as info:
        load_params(ROOT / "params/base.yaml", bad)
    msg = str(info.value)
    assert f"{case}.yaml" in msg and f"key '{key}" in msg and words in msg
    assert info.value.key == key


@pytest.mark.parametrize(
    ("text", "words"),
    [("sector: [unclosed\n", "not valid YAML"), ("- a\n- b\n", "expected a mapping")],
)
def test_malformed_files_name_the_file(tmp_path, text, words):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    with pytest.raises(ParamsError, match=words) as info:
        load_params(bad)
    assert "bad.yaml" in str(info.value)


def test_missing_params_file(tmp_path):
    with pytest.raises(ParamsError, match="file not found"):
        load_params(tmp_path / "nope.yaml")


def test_bad_params_are_rejected_before_any_kernel_starts(tmp_path):
    bad = tmp_path / "typo.yaml"
    bad.write_text("end_yaer: 2024\n")
    jobs = plan_batch(sets=[("params/base.yaml", "params/textile.yaml")], extra_files=[bad])
    with pytest.raises(ParamsError, match="end_yaer") as info:
        run_batch(jobs, run_id="never", reports_dir=tmp_path / "reports", progress=False)
    assert "typo.yaml" in str(info.value)
    assert not (tmp_path / "reports" / "never").exists()


def test_a_key_no_notebook_declares_is_an_error(tmp_path, monkeypatch):
    # 'seed' is a valid parameter; in a project whose only notebook does not declare it,
    # setting it is an error rather than a silently ignored value.
    import analysis.reports.plan as plan

    monkeypatch.setattr(plan, "_project_parameters", lambda: set())
    extra = tmp_path / "seeded.yaml"
    extra.write_text("seed: 7\n")
    jobs = plan_batch(
        ["notebooks/00-data-audit.ipynb"], [("params/ci.yaml",)], extra_files=[extra]
    )
    with pytest.raises(ParamsError, match="not declared") as info:
        validate_jobs(jobs)
    assert info.value.key == "seed" and "seeded.yaml" in str(info.value)


def test_unsafe_run_id_is_rejected(tmp_path):
    from analysis.reports import PipelineError

    with pytest.raises(PipelineError, match="unsafe run id"):
        run_batch(plan_batch(), run_id="../elsewhere", reports_dir=tmp_path, progress=False)


def test_every_params_file_fits_the_notebooks_parameters_cells():
    declared = {nb: notebook_parameters(ROOT / nb) for nb in (*DEFAULT_NOTEBOOKS, BRIEF_NOTEBOOK)}
    for nb, cell in declared.items():
        unknown = set(cell) - set(Params.model_fields)
        assert not unknown, f"{nb} declares parameters analysis.params does not know: {unknown}"
        for name, spec in cell.items():
            assert spec["help"], f"{nb}: parameter {name} lacks a help comment"
    union = set().union(*(set(c) for c in declared.values()))
    import yaml

    for f in sorted((ROOT / "params").glob("*.yaml")):
        keys = set(yaml.safe_load(f.read_text()) or {})
        assert keys <= union, f"{f.name} sets keys no notebook declares: {keys - union}"
    # And every default job validates, each notebook receiving only what it declares.
    jobs = plan_batch(DEFAULT_NOTEBOOKS, DEFAULT_SETS, extra_files=["params/ci.yaml"])
    for job, params in zip(jobs, validate_jobs(jobs).values(), strict=True):
        assert set(params) <= set(declared[job.notebook])
