"""`mitra data check` end to end, and the SYNTHETIC example."""

from __future__ import annotations

import json
import shutil

import pandas as pd

from analysis.cli import main
from analysis.data.synthetic import make_synthetic_realisation
from conftest import ROOT


def test_data_check_prints_and_writes_the_report(tmp_path, capsys):
    out = tmp_path / "data-check"
    assert main(["data", "check", "--out", str(out), "--as-of", "2026-12-07"]) == 0
    printed = capsys.readouterr().out
    for heading in (
        "Data as of FY 2025: the latest BKPM release in the ledger, published 15 January 2026.",
        "Releases due by 7 December 2026 but not in the ledger: Q1 2026, H1 2026, 9M 2026.",
        "PMA by partner x sector",
        "Major projects per sector and status",
        "Full-year national realisation 2015-2025",
        "Chemical & pharmaceutical",
        "Top partners",
        "Conflicts",
        "Identity violations",
        "Derived values",
        "Coverage: year x measure",
        "Coverage: year x sector",
        "Coverage: year x partner",
    ):
        assert heading in printed
    for name in (
        "summary.md",
        "manifest.json",
        "fy_totals.csv",
        "conflicts.csv",
        "identity_violations.csv",
        "derived.csv",
        "censoring.csv",
        "coverage_year_measure.csv",
        "observations.csv",
        "chem_pharma.csv",
        "releases.csv",
        "missing_releases.csv",
        "partner_sector.csv",
        "projects.csv",
        "projects_by_sector.csv",
        "targets_all.csv",
    ):
        assert (out / name).is_file(), name
    fy = pd.read_csv(out / "fy_totals.csv")
    assert list(fy["year"]) == list(range(2015, 2026))
    assert fy.set_index("year").loc[2025, "total_rp_bn"] == 1_931_200
    assert fy["total_rp_bn"].notna().all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["settings"]["fx_basis"] == "apbn"
    assert manifest["as_of"] == "2026-12-07"
    assert manifest["latest_release"]["label"] == "FY 2025"
    assert manifest["missing_releases"] == ["Q1 2026", "H1 2026", "9M 2026"]
    assert set(manifest["data_hashes"]) >= {"raw/bkpm/investment_by_year.csv"}
    assert manifest["environment"]["packages"]["pandas"]


def test_schema_error_exits_2_and_keeps_the_previous_report(tmp_path, capsys):
    out = tmp_path / "data-check"
    assert main(["data", "check", "--out", str(out), "-q"]) == 0
    before = (out / "summary.md").read_text()
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "year,period,measure,sector,partner_iso3,province,value,unit\n"
        "2024,Q1,pma,textile,KOR,Jawa Barat,-5,US$ thousand\n"
    )
    assert main(["data", "check", "--out", str(out), "-q", "--import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.csv, line 2, column 'value': negative amount" in err
    assert (out / "summary.md").read_text() == before


def test_fx_basis_option_is_recorded(tmp_path):
    out = tmp_path / "dc"
    assert (
        main(
            [
                "data",
                "check",
                "--out",
                str(out),
                "-q",
                "--fx-basis",
                "market",
                "--fx-fallback",
                "none",
            ]
        )
        == 0
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["settings"]["fx_basis"] == "market"
    assert manifest["settings"]["fx_fallback"] is None


def test_import_of_the_synthetic_example(tmp_path):
    out = tmp_path / "dc"
    example = ROOT / "data/examples/bkpm_realisation_SYNTHETIC.csv"
    assert main(["data", "check", "--out", str(out), "-q", "--import", str(example)]) == 0
    obs = pd.read_csv(out / "observations.csv")
    imported = obs[obs["dataset"] == "realisation"]
    assert len(imported) > 0
    assert imported["sources"].str.contains("SYNTHETIC").all()
    assert set(imported["region"]) >= {"ID-JB", "IDN"}


def test_synthetic_example_is_reproducible_from_its_seed(tmp_path):
    shipped = pd.read_csv(ROOT / "data/examples/bkpm_realisation_SYNTHETIC.csv")
    again = make_synthetic_realisation()
    pd.testing.assert_frame_equal(shipped, again, check_dtype=False)
    assert shipped["source"].str.startswith("SYNTHETIC").all()
    assert not make_synthetic_realisation(seed=1).equals(again)


def test_cli_writes_nothing_into_the_repo_when_given_out(tmp_path):
    before = sorted(p.name for p in (ROOT / "reports").iterdir())
    assert main(["data", "check", "--out", str(tmp_path / "x"), "-q"]) == 0
    assert sorted(p.name for p in (ROOT / "reports").iterdir()) == before
    shutil.rmtree(tmp_path / "x")


def test_mitra_run_writes_one_report_with_manifest_and_index(tmp_path, monkeypatch):
    import analysis.base.paths

    monkeypatch.setattr(analysis.base.paths, "REPORTS", tmp_path)
    rc = main(
        [
            "run",
            "notebooks/00-data-audit.ipynb",
            "-f",
            "params/base.yaml",
            "-f",
            "params/pharma.yaml",
            "-f",
            "params/ci.yaml",
            "--run-id",
            "one",
            "--no-progress",
        ]
    )
    assert rc == 0
    run = tmp_path / "one"
    assert (run / "00-data-audit--pharma-ci.html").is_file()
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["reports"]["00-data-audit--pharma-ci"]["parameters"]["sector"] == "pharma"
    assert "00-data-audit--pharma-ci" in (run / "index.html").read_text()


def test_mitra_batch_rejects_bad_params_with_exit_2(tmp_path, monkeypatch, capsys):
    import analysis.base.paths

    monkeypatch.setattr(analysis.base.paths, "REPORTS", tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text("sector: steel\n")
    assert main(["batch", "--set", "textile", "-f", str(bad), "--no-progress"]) == 2
    assert "bad.yaml, line 1, key 'sector'" in capsys.readouterr().err
