"""Results a batch's kernels share through the on-disk cache give the same numbers.

Each report runs in its own kernel, so the ledger, the partner panel, the national flow
forecasts and the ranking study are cached on disk (:mod:`analysis.base.cache`): a second
kernel reads what the first computed. These tests check that a read gives exactly what a
computation gives, that the read really comes from disk (the builder is made to fail), and
that a change to the data or the settings is a miss.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from analysis.base.cache import folder_fingerprint


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MITRA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("MITRA_CACHE", raising=False)


def _fail(*args, **kwargs):
    raise AssertionError("computed again: the cached result was not read")


def test_folder_fingerprint_sees_every_added_changed_or_renamed_file(tmp_path):
    root = tmp_path / "data"
    (root / "raw").mkdir(parents=True)
    (root / "raw" / "a.csv").write_text("x\n1\n")
    seen = {folder_fingerprint(root)}
    (root / "raw" / "a.csv").write_text("x\n2\n")
    seen.add(folder_fingerprint(root))
    (root / "b.csv").write_text("")
    seen.add(folder_fingerprint(root))
    (root / "b.csv").rename(root / "c.csv")
    seen.add(folder_fingerprint(root))
    assert len(seen) == 4
    assert folder_fingerprint(root) == folder_fingerprint(str(root))  # deterministic


def test_ledger_is_read_from_disk_by_the_next_kernel(monkeypatch):
    import analysis.data
    from analysis.data.ledger import LedgerSettings
    from analysis.studies.inputs import Inputs

    first = Inputs(LedgerSettings()).ledger  # a new Inputs: what a new kernel does
    monkeypatch.setattr(analysis.data, "build_ledger", _fail)
    second = Inputs(LedgerSettings()).ledger
    assert second.fingerprint == first.fingerprint
    pd.testing.assert_frame_equal(second.observations, first.observations)
    # Other settings are another ledger: computed, not read.
    with pytest.raises(AssertionError, match="computed again"):
        Inputs(LedgerSettings(fx_basis="market"))


def test_panel_is_read_from_disk_by_the_next_kernel(monkeypatch):
    import analysis.data.panel.panel as panel_module

    panel_module._cached.cache_clear()  # an earlier test's panel in memory is not this cache's
    first = panel_module.load_panel()
    panel_module._cached.cache_clear()  # what a new kernel starts with
    monkeypatch.setattr(panel_module, "build_panel", _fail)
    second = panel_module.load_panel()
    assert second.fingerprint == first.fingerprint
    pd.testing.assert_frame_equal(second.frame, first.frame)


def test_national_flow_forecasts_are_shared_by_the_sectors(monkeypatch):
    import analysis.studies.flows.study as flows
    from analysis.studies.flows import FlowStudySettings
    from analysis.studies.inputs import inputs

    ledger = inputs().ledger
    textile = flows.run_flows(ledger, FlowStudySettings(sector="textile", draws=200))
    monkeypatch.setattr(flows, "_base_forecast", _fail)
    pharma = flows.run_flows(ledger, FlowStudySettings(sector="pharma", draws=200))
    # The national outlook is the same in both sectors' reports, number for number.
    pd.testing.assert_frame_equal(pharma.national(), textile.national())
    # Another horizon is another entry (checked on the cached step alone: a marker, no fit).
    monkeypatch.setattr(flows, "_base_forecast", lambda series, s: "computed")
    history = dict.fromkeys(flows.MEASURES)
    used = textile.settings  # as run: the study follows the ledger's latest full year
    assert "computed" not in flows._national_bases(ledger, history, used).values()
    other = replace(used, horizon=used.horizon + 1)
    assert set(flows._national_bases(ledger, history, other).values()) == {"computed"}


def test_a_brief_reads_the_ranking_its_report_computed(monkeypatch):
    import analysis.studies.ranking as ranking
    from analysis.studies.gravity import GravityStudySettings
    from analysis.studies.ranking import RankingStudySettings, run_ranking

    # No distribution check in the gravity study the agreement table reads: the test is
    # about the ranking study's entry, and this cache folder starts empty.
    gravity = GravityStudySettings(sector="pharma", distribution_reps=0)
    base = RankingStudySettings(
        sector="pharma", validate=False, compare_sectors=False, gravity=gravity
    )
    s = replace(base, ranking=replace(base.ranking, draws=100, sobol_base=16))
    first = run_ranking(s)
    monkeypatch.setattr(ranking, "_run_ranking", _fail)
    again = run_ranking(s)
    pd.testing.assert_frame_equal(again.result.table, first.result.table)
    # Another seed is another entry (a marker stands in for the computation).
    monkeypatch.setattr(ranking, "_run_ranking", lambda *args: "computed")
    assert run_ranking(replace(s, ranking=replace(s.ranking, seed=s.ranking.seed + 1))) == (
        "computed"
    )
