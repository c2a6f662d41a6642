"""Partner briefs and the data audit: sentences computed from their tables, in both languages."""

from __future__ import annotations

import re

import pytest

from analysis.params import load_params
from analysis.present.formatting import anchor
from analysis.reports import BRIEF_PARTNERS, plan_brief_requests, plan_briefs
from analysis.studies.audit import AuditSettings, run_audit_report
from analysis.studies.brief import BriefSettings, run_brief, settings


def _settings(language: str) -> BriefSettings:
    # The CI batch's parameters for this brief (base + chemical + ci: fewer Monte Carlo draws
    # and simulations), so the gravity study and the ranking come from the session's cache.
    params = load_params(
        "params/base.yaml",
        "params/chemical.yaml",
        "params/ci.yaml",
        overrides={"partner": "DEU", "language": language},
    )
    return settings(params)


@pytest.fixture(scope="module")
def briefs(ledger, ci_batch):
    # After the session's CI batch (same worker, same settings): the gravity study and the
    # ranking indicator sets come from the shared cache instead of being computed again.
    return {lang: run_brief(_settings(lang), ledger) for lang in ("en", "id")}


def _headings(brief) -> set[str]:
    return {
        brief.m(f"brief.h_{k}")
        for k in ("rank", "profile", "history", "trade", "agreements", "gravity", "move")
    }


def test_brief_findings_are_few_computed_and_linked(briefs):
    for lang, brief in briefs.items():
        findings = brief.key_findings().findings
        assert 3 <= len(findings) <= 6, lang
        for f in findings:
            assert f.section in _headings(brief), (lang, f.section)
        md = brief.key_findings().as_markdown()
        for f in findings:
            assert f"(#{anchor(f.section)})" in md
    row = briefs["en"].row()
    first = briefs["en"].key_findings().findings[0].text
    # The rank sentence carries the ranking table's numbers, not typed ones.
    assert f"ranks {int(row['rank'])} of " in first
    assert f"between {int(row['rank_p05'])} and {int(row['rank_p95'])}" in first


def test_germany_chemical_brief_shows_ieu_cepa_pending_and_censored_history(briefs):
    en, id_ = briefs["en"], briefs["id"]
    agreements = en.table("agreements").to_frame()
    name = "Indonesia–EU Comprehensive Economic Partnership Agreement (IEU-CEPA)"
    assert name in agreements.iloc[:, 1].tolist()
    assert "not in force" in agreements.iloc[:, 2].tolist()
    # Trade agreement, investment treaty and tax treaty, each with its own status.
    assert set(en.agreements["kind"]) == {"trade_agreement", "investment_treaty", "tax_treaty"}
    ind = id_.table("agreements").to_frame()
    assert "belum berlaku" in ind.iloc[:, 2].tolist()
    assert "Perjanjian Kemitraan Ekonomi Komprehensif Indonesia–Uni Eropa (IEU-CEPA)" in (
        ind.iloc[:, 1].tolist()
    )
    assert any(
        n.startswith("Persetujuan Penghindaran Pajak Berganda (P3B) Indonesia–Jerman")
        for n in ind.iloc[:, 1]
    )
    assert "NOT IN FORCE" not in ind.to_string()
    history = en.table("history")
    cells = history.to_frame().iloc[:, 1].tolist()
    censored = en.history[en.history["status"] == "censored"]
    assert len(censored) and sum(c.startswith("< ") for c in cells) == len(censored)
    assert any("below x (censored)" in line for line in history.legend)


def test_indonesian_brief_is_in_indonesian_with_indonesian_numbers(briefs):
    id_ = briefs["id"]
    text = id_.key_findings().as_text()
    assert text.startswith("Temuan utama")
    assert "Jerman" in text and "Germany" not in text
    g = id_.gravity_row("total")
    if g is not None:  # US$ 5.766 juta: a dot groups thousands in Bahasa Indonesia
        assert id_.m.number(g["predicted_usd_m"], 0) in text
        assert re.search(r"US\$ \d{1,3}(\.\d{3})* juta", text)
    rank = id_.table("rank").to_frame()
    assert list(rank.columns)[:2] == ["Mitra", "Peringkat"]
    assert "Jerman" in rank["Mitra"].tolist()


def test_the_partner_brief_and_its_tables_agree(briefs):
    en = briefs["en"]
    rank = en.table("rank").data.set_index("partner_iso3")
    assert int(rank.loc["DEU", "rank"]) == int(en.row()["rank"])
    profile = en.pillar_scores()
    assert ((profile.fillna(0) >= 0) & (profile.fillna(0) <= 1)).all().all()
    top5 = set(en.ranked()["partner_iso3"].head(5))
    assert "DEU" in profile.index and len(profile) == len(top5 | {"DEU"})
    above, movers = en.movers()
    if above is not None:
        assert (movers["gap"] > 0).all() and list(movers["gap"]) == sorted(movers["gap"])[::-1]


def test_unknown_inputs_are_named():
    with pytest.raises(ValueError, match="language"):
        BriefSettings("DEU", "chemical", "fr")
    with pytest.raises(ValueError, match="ISO 3166"):
        BriefSettings("Germany", "chemical")
    with pytest.raises(ValueError, match="sector"):
        BriefSettings("DEU", "steel")


def test_briefs_are_planned_for_germany_and_each_sectors_top_three(ci_batch):
    # Second phase of the default batch: each sector's briefs come from its ranking report's
    # own ranking.csv (here the session's CI batch), never from a ranking run while planning.
    import pandas as pd

    requests = plan_brief_requests(extra_files=["params/ci.yaml"])
    jobs = plan_briefs(ci_batch.run_dir, requests)
    names = {j.name for j in jobs}
    for sector, partners in BRIEF_PARTNERS.items():
        for partner in partners:
            for lang in ("en", "id"):
                assert f"40-partner-brief--{sector}-ci-{partner.lower()}-{lang}" in names
    for sector in ("textile", "chemical", "pharma"):
        table = pd.read_csv(
            ci_batch.run_dir / "tables" / f"30-partner-ranking--{sector}-ci" / "ranking.csv"
        )
        eligible = table[~table["hub"].astype(bool) & (table["status"] == "ranked")]
        top = eligible.sort_values(["median_rank", "rank", "partner_iso3"])["partner_iso3"]
        assert len(top) >= 3
        for partner in top.head(3):
            assert f"40-partner-brief--{sector}-ci-{partner.lower()}-id" in names
    job = next(j for j in jobs if j.name == "40-partner-brief--chemical-ci-deu-id")
    assert dict(job.overrides) == {"partner": "DEU", "language": "id"}
    assert job.params_files == ("params/base.yaml", "params/chemical.yaml", "params/ci.yaml")


def test_audit_findings_carry_the_national_table(ledger):
    audit = run_audit_report(
        AuditSettings("chemical", ("chem_pharma", "chemical"), 2015, 2024, ("SGP", "JPN")),
        ledger,
    )
    nat = audit.national().set_index("year")
    first = audit.key_findings().findings[0].text
    assert f"Rp {nat.loc[2024, 'total_rp_bn'] / 1000:,.1f} trillion in 2024" in first
    assert 3 <= len(audit.key_findings()) <= 6
    for name in audit.TABLES:
        table = audit.table(name)
        assert "nan" not in table.as_text().lower().split()
    partners = audit.table("partners").to_frame()
    assert partners.iloc[:, 0].tolist() == ["Singapore", "Japan"]


def test_every_figure_says_total_or_sector_and_what_is_known(briefs):
    en = briefs["en"]
    g, gs = en.gravity_row("total"), en.gravity_row("sector")
    assert g is not None and gs is not None
    # Report 20's numbers: the total potential (all sectors), and the sector's on its own.
    assert g["predicted_usd_m"] > gs["predicted_usd_m"]
    gravity = en.table("gravity").to_frame()
    assert gravity.iloc[:, 0].tolist() == ["All sectors", "chemicals"]
    actual = gravity.iloc[:, -1].tolist()
    # Germany is below BKPM's top-N list in the latest year: censored, "below x", not unknown.
    h = en.history
    latest = h[(h["period"] == "FY") & (h["year"] == int(g["year"]))].iloc[0]
    if latest["status"] == "censored":
        assert actual[0] == en.m("brief.actual_censored", bound=latest["upper_bound"])
    assert actual[1] == en.m("brief.actual_sector_unpublished")
    gravity_finding = next(
        f.text for f in en.key_findings().findings if f.section == en.m("brief.h_gravity")
    )
    assert "all sectors" in gravity_finding and "chemicals alone" in gravity_finding


def test_one_sector_definition_matches_the_ranking(briefs):
    en = briefs["en"]
    ours = en.trade.set_index("indicator").loc["sector_exports"]
    ranking = en.ranking.data  # the ranking's own sector_exports (SITC 5 less 54)
    assert ours["value"] == pytest.approx(ranking.values.at["DEU", "sector_exports"], rel=1e-9)
    assert int(ours["year"]) == int(ranking.years.at["DEU", "sector_exports"])
    note = " ".join(en.table("trade").notes)
    assert "SITC 5 less SITC 54" in note


def test_levers_are_only_what_indonesia_or_the_partner_can_act_on(briefs):
    from analysis.studies.brief import LEVERS

    for brief in briefs.values():
        _, movers = brief.movers(n=10)
        assert set(movers["indicator"]) <= LEVERS
        assert "same_subregion" not in set(movers["indicator"])
        assert "distance" not in set(movers["indicator"])


def test_an_unknown_entry_into_force_is_unknown_not_not_in_force():
    from analysis.studies.brief import _instruments

    japan = _instruments("JPN", 2024)
    assert set(japan["state"]) <= {"in_force", "not_in_force", "unknown"}
    # Japan's tax treaty: no date in the sources, so unknown (never "not in force").
    assert japan.loc[japan["kind"] == "tax_treaty", "state"].tolist() == ["unknown"]
    canada = _instruments("CAN", 2024)
    trade = canada[canada["kind"] == "trade_agreement"]
    assert set(trade["state"]) == {"not_in_force"}  # "NOT IN FORCE (no EIF found)"


def test_every_agreement_of_a_candidate_has_an_indonesian_name():
    from analysis.data.agreements import instruments
    from analysis.data.panel import CANDIDATES
    from analysis.studies.brief import _agreement_name

    left = set()
    for iso3 in CANDIDATES:
        for i in instruments(iso3, "2024-12-31", kinds=["trade_agreement", "investment_treaty"]):
            is_bit = "BIT" in i.name.split() or "BIT)" in i.name
            if i.kind == "investment_treaty" and is_bit and "no BIT" not in i.name:
                continue  # named "P4M Indonesia-<partner>" by the brief
            if _agreement_name(i.name, "id") == i.name:
                left.add(i.name)
    assert not left, f"agreements without an Indonesian name in id.yaml: {sorted(left)}"


def test_the_brief_shows_both_sides_firms_and_projects(briefs):
    en, id_ = briefs["en"], briefs["id"]
    # BKPM by period: full years, then the periods released after the end year.
    h = en.history
    assert set(h.loc[h["year"] <= en.settings.end_year, "period"]) == {"FY"}
    assert (h["year"] > en.settings.end_year).any()
    when = en.table("history").to_frame().iloc[:, 0].tolist()
    assert "2024" in when and any(w.startswith("January-September") for w in when)
    # Germany's projects in chemicals, by status, and its firms in the league tables.
    projects = en.table("projects").to_frame()
    assert len(projects) == len(en.projects) >= 1
    assert set(en.projects["status"]) <= {
        "operating",
        "under_construction",
        "announced",
        "cancelled",
    }
    assert "BASF" in en.firms_text()
    assert "peringkat ke-" in id_.firms_text()
    # Both sides: whatever is published, or a sentence saying what is not.
    if en.sides.empty:
        assert "not found" in en.empty_note("investment")
    else:
        assert set(en.sides["side"]) <= {"bkpm", "partner"}


def test_an_indonesian_brief_writes_data_text_from_structured_fields(briefs):
    """No English from the data files in a Bahasa Indonesia brief: league tables, projects,
    investment statements and publishers are written from structured fields, and free text
    that cannot be rendered stays in the CSV."""
    from analysis.data.investor import load_multinationals
    from analysis.data.projects import load_projects

    en, id_ = briefs["en"], briefs["id"]
    # League tables: publisher, size and data year, never the English title.
    titles = set(load_multinationals()["list_name"])
    text = id_.firms_text()
    assert "BASF" in text and "daftar " in text and " besar " in text
    assert not [t for t in titles if t in text]
    assert any(t in en.firms_text() for t in titles)  # English keeps the title
    # Projects: company, amount, status and years; the description stays in the CSV.
    table = id_.table("projects")
    shown = table.to_frame().to_string()
    for description in load_projects()["project"]:
        assert description not in shown
    assert table.data["project"].tolist() == id_.projects["project"].tolist()
    assert any(n == id_.m("brief.projects_note_descriptions") for n in table.notes)
    assert en.projects["project"].iloc[0] in en.table("projects").to_frame().to_string()
    # Trade: publishers by their catalogue names.
    publishers = {v for k, v in id_.m._catalogue.items() if k.startswith("brief.publisher_")}
    for cell in id_.table("trade").to_frame().iloc[:, -1]:
        assert set(cell.split(", ")) <= publishers, cell


def test_investment_statements_league_tables_and_companies_in_indonesian(briefs):
    id_, en = briefs["id"], briefs["en"]
    # BKPM's statements: ledger sector and statement kind; the partner's: industry and measure.
    assert id_.side_what("bkpm", "commitment", "pharma", "") == "Farmasi: komitmen investasi"
    assert id_.side_what("bkpm", "realised", "chem_pharma", "") == (
        "Industri kimia dan farmasi: realisasi"
    )
    assert id_.side_what("partner", "flow", "", "all industries") == (
        "semua industri: arus investasi langsung"
    )
    # An industry the catalogue cannot name is not copied into Bahasa Indonesia.
    odd = "chemicals and allied products (manufacturing)"
    assert odd not in id_.side_what("partner", "position", "", odd)
    assert odd in en.side_what("partner", "position", "", odd)
    # Periods from codes and years, not the compiler's English wording.
    assert id_.side_when(2023, "H1", None) == "semester I 2023"
    assert id_.side_when(2020, "", 2016) == "2016–2020"
    assert id_.side_when(2015, "", 2015) == "2015"
    # League tables and companies.
    assert id_.league_text("ICIS Top 100 Chemical Companies 2025", 2024) == (
        "daftar 100 besar ICIS, data 2024"
    )
    assert (
        id_.league_text("Pharm Exec Top 50 (2025)", 2024)
        == "daftar 50 besar Pharm Exec, data 2024"
    )
    assert "largest" not in id_.league_text('"largest textile manufacturers (compiled)', 2023)
    assert (
        id_.company_text("Fresenius Kabi (PT Ethica Industri Farmasi, JV with SOHO Global Health)")
        == "Fresenius Kabi (PT Ethica Industri Farmasi)"
    )
    assert id_.company_text("Unnamed Korean shoe maker") == id_.m("brief.company_unnamed")
    assert id_.company_text("Mitsubishi Chemical (incl. PT MC PET Film Indonesia)") == (
        "Mitsubishi Chemical"
    )
    assert en.company_text("Unnamed Korean shoe maker") == "Unnamed Korean shoe maker"


def test_counts_in_a_brief_agree_in_number(briefs):
    en = briefs["en"]
    text = en.key_findings().as_text()
    assert "(s)" not in text
    n = len(en.ranked())
    assert f"of {n} candidate partners" in text
    assert not re.search(r"\b1 (places|years|candidate partners)\b", text)


def test_every_lever_has_a_label_in_every_language():
    from analysis.base.i18n import LANGUAGES, catalogue
    from analysis.studies.brief import LEVERS

    for lang in LANGUAGES:
        missing = sorted(c for c in LEVERS if f"label.indicator.{c}" not in catalogue(lang))
        assert not missing, (lang, missing)


def test_german_investment_beyond_the_lists_is_shown_in_both_languages(briefs):
    # BKPM's figure for Germany outside its yearly top-N lists: US$ 89.8 m in H1 2023
    # (host-side row of data/raw/investor/ofdi_by_industry.csv, rank 19).
    en, id_ = briefs["en"], briefs["id"]
    row = en.sides[(en.sides["side"] == "bkpm") & (en.sides["year"] == 2023)]
    assert row["value_usd_m"].round(1).tolist() == [89.8]
    shown = id_.table("investment").to_frame().to_string()
    assert "semester I 2023" in shown and "seluruh sektor (di luar migas dan perbankan)" in shown
    assert "all industries" not in shown
    assert "first half 2023" in en.table("investment").to_frame().to_string()
