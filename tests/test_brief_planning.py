"""Two-phase default batch (issue 24): partner briefs are planned from each ranking report's
own ``ranking.csv`` once that report has finished; planning never runs a ranking."""

from __future__ import annotations

import json

import nbformat
import pandas as pd
import pytest

from analysis.base.errors import PipelineError
from analysis.reports import BriefRequest, brief_partners, plan_batch, run_batch
from analysis.reports.plan import Job


def _table(**extra) -> pd.DataFrame:
    t = pd.DataFrame(
        {
            "partner_iso3": ["SGP", "JPN", "CHN", "KOR", "USA", "HKG"],
            "rank": [1, 2, 3, 4, 5, 6],
            "median_rank": [1.0, 3.0, 2.0, 3.0, 5.0, 1.0],
            "status": ["ranked"] * 5 + ["ranked"],
            "hub": [True, False, False, False, False, True],
        }
    )
    return t.assign(**extra)


def test_top_three_by_median_rank_without_hubs():
    # SGP and HKG are hubs; JPN and KOR tie on median rank 3: the nominal rank decides.
    assert brief_partners(_table(), "textile") == ["CHN", "JPN", "KOR"]


def test_germany_is_added_for_chemical_and_pharma_only():
    assert brief_partners(_table(), "chemical") == ["CHN", "JPN", "KOR", "DEU"]
    assert brief_partners(_table(), "pharma")[-1] == "DEU"
    assert "DEU" not in brief_partners(_table(), "textile")


def test_rows_without_a_sector_score_are_not_briefed():
    t = _table(sector_score=["0.9", "", "0.5", "0.4", "0.3", "0.8"])
    assert brief_partners(t, "textile") == ["CHN", "KOR", "USA"]


def test_without_sector_score_only_ranked_rows_count():
    t = _table(status=["ranked", "insufficient data", "ranked", "ranked", "ranked", "ranked"])
    assert brief_partners(t, "textile") == ["CHN", "KOR", "USA"]


def test_csv_text_values_are_read_like_the_table():
    t = _table().astype(str)  # as read from ranking.csv with dtype=str
    assert brief_partners(t, "textile") == ["CHN", "JPN", "KOR"]


def test_a_table_without_median_rank_is_a_named_error():
    with pytest.raises(PipelineError, match="median_rank"):
        brief_partners(_table().drop(columns="median_rank"), "textile")


def test_planning_the_default_batch_runs_no_ranking(monkeypatch):
    # The module where top_partners calls _top (the brief is a package since the split).
    import analysis.studies.brief.study as brief

    def boom(*a, **k):
        raise AssertionError("planning ran a ranking")

    monkeypatch.setattr(brief, "_top", boom, raising=False)
    names = [j.name for j in plan_batch()]
    assert len(names) == 12 and not any(n.startswith("40-") for n in names)
    with pytest.raises(PipelineError, match="after the ranking reports"):
        plan_batch(briefs=True)


# A stand-in ranking report that writes its ranking table the way report 30 does, and a
# stand-in brief that prints its partner: the batch's second phase on real kernels.
RANKING = """\
# %% tags=["parameters"]
sector: str = "textile"

# %%
import pandas as pd
from analysis.present.tables import write_table
table = pd.DataFrame({"partner_iso3": ["SGP", "JPN", "CHN", "KOR"], "rank": [1, 2, 3, 4],
                      "median_rank": [1.0, 2.0, 3.0, 4.0], "status": "ranked",
                      "hub": [True, False, False, False]})
write_table(table, "ranking", report="30-partner-ranking")
print("ranked", sector)
"""
BRIEF = """\
# %% tags=["parameters"]
sector: str = "textile"
partner: str = "DEU"
language: str = "en"

# %%
print("brief", sector, partner, language)
"""


def _notebook(path, source: str):
    import jupytext

    nb = jupytext.reads(source, fmt="py:percent")
    nb.metadata["kernelspec"] = {
        "name": "mitra",
        "display_name": "Python (mitra)",
        "language": "python",
    }
    nbformat.write(nb, path)
    return str(path)


def test_briefs_are_planned_and_run_after_their_ranking_report(tmp_path):
    ranking = _notebook(tmp_path / "rank.ipynb", RANKING)
    brief = _notebook(tmp_path / "brief.ipynb", BRIEF)
    files = ("params/base.yaml", "params/textile.yaml")
    request = BriefRequest("rank--textile", files, "textile", "textile", ("en",), 2, brief)
    result = run_batch(
        [Job(ranking, files, "rank--textile")],
        briefs=[request],
        run_id="two",
        reports_dir=tmp_path / "r",
        workers=2,
        progress=False,
        start_timeout=180,
    )
    assert result.ok, {n: r["error"] for n, r in result.records.items()}
    assert sorted(result.records) == [
        "brief--textile-chn-en",
        "brief--textile-jpn-en",
        "rank--textile",
    ]
    assert "brief textile JPN en" in (result.run_dir / "brief--textile-jpn-en.ipynb").read_text()
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    (entry,) = manifest["briefs"]
    assert entry["status"] == "planned" and "brief--textile-chn-en" in entry["note"]
    assert manifest["reports"]["brief--textile-chn-en"]["overrides"] == {
        "partner": "CHN",
        "language": "en",
    }


def test_only_failed_takes_the_briefs_that_were_never_planned(tmp_path):
    from dataclasses import asdict

    from analysis.reports.batch import _waiting_briefs

    files = ("params/base.yaml", "params/chemical.yaml")
    waiting = BriefRequest("30-partner-ranking--chemical", files, "chemical", "chemical")
    done = BriefRequest("30-partner-ranking--textile", files[:1], "textile", "textile")
    manifest = {
        "run_id": "R",
        "reports": {},
        "briefs": [
            {**asdict(waiting), "status": "waiting", "note": "ranking report did not finish"},
            {**asdict(done), "status": "planned", "note": "..."},
        ],
    }
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    assert _waiting_briefs(path) == [waiting]
