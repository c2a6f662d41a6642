"""What a brief reads: reports 20 and 30's results through their own study functions, trade,
instruments, investment from both sides, projects, firms and publishers.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analysis.base.i18n import messages
from analysis.data.ledger import Ledger

if TYPE_CHECKING:
    from analysis.studies.gravity import GravityStudySettings
    from analysis.studies.ranking import RankingStudySettings


# --- reports 20 and 30's results, read through their own study functions ------------------


def _gravity(ledger: Ledger, gravity: GravityStudySettings) -> pd.DataFrame:
    """The gravity study's potential in the latest year, total and sector (report 20's numbers).

    Columns: scope (``total`` or ``sector``), partner_iso3, year, predicted_usd_m, ci_low,
    ci_high, actual_usd_m, actual_upper_usd_m (US$ million), actual_status. The total's actual
    is BKPM's partner figure (listed, or censored below the smallest listed value), or for an
    unlisted year the partner's own outward FDI (status ``measured``); BKPM publishes no
    partner x sector figure the model could use, so the sector's actual is not published.
    """
    from analysis.studies.gravity import gravity_study

    study = gravity_study(gravity, ledger=ledger)
    frames = []
    for scope, key in (("total", "total"), ("sector", gravity.sector)):
        pot = study.latest(key)
        if scope == "sector":  # no investor-side evidence: no sector potential to quote
            pot = pot[pot["predicted"].notna()]
        frames.append(
            pd.DataFrame(
                {
                    "scope": scope,
                    "partner_iso3": pot["partner_iso3"].to_numpy(),
                    "year": pot["year"].to_numpy(),
                    "predicted_usd_m": pot["predicted"].to_numpy(),
                    "ci_low": pot["lo"].to_numpy(),
                    "ci_high": pot["hi"].to_numpy(),
                    "actual_usd_m": pot["actual"].to_numpy(),
                    "actual_upper_usd_m": pot["actual_upper"].to_numpy(),
                    "actual_status": pot["actual_status"].to_numpy(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _ranking(ledger: Ledger, ranking: RankingStudySettings):
    """The partner ranking of report 30 for the brief's sector (same settings, same numbers).

    Returns the ranking study's :class:`~analysis.models.ranking.RankingResult`.
    """
    from analysis.studies.ranking import run_ranking

    return run_ranking(ranking, ledger=ledger).result


#: Trade with Indonesia (partner panel, bilateral, all goods).
TRADE_CODES: tuple[str, ...] = ("idn_exports_to_usd", "idn_imports_from_usd")


def _trade(partner: str, sector: str, end_year: int) -> pd.DataFrame:
    """Sector exports (the ranking's definition) and goods trade with Indonesia (US$ billion).

    The sector's exports are the ranking's ``sector_exports``: the panel codes of
    :data:`analysis.models.indicators.SECTOR_EVIDENCE` summed, less its ``minus`` codes, in the
    latest year where all are published (chemicals = SITC 5 less pharmaceuticals, SITC 54).
    One row per indicator: its latest year up to ``end_year``, value, source and flags.
    """
    from analysis.data.panel import load_panel
    from analysis.models.indicators import SECTOR_EVIDENCE

    panel = load_panel()
    rows = []
    ev = SECTOR_EVIDENCE[sector]
    plus, minus = list(ev["exports"]), list(ev["minus"])  # type: ignore[call-overload]
    parts = {}
    for code in plus + minus:
        f = panel.frame
        sub = f[(f["iso3"] == partner) & (f["indicator"] == code)]
        sub = sub[(sub["year"] <= end_year) & sub["value"].notna()]
        parts[code] = sub.set_index("year")
    years = sorted(set.intersection(*(set(p.index) for p in parts.values()))) if parts else []
    if years:
        y = years[-1]
        value = sum(float(parts[c].at[y, "value"]) for c in plus) - sum(
            float(parts[c].at[y, "value"]) for c in minus
        )
        rows.append(
            {
                "indicator": "sector_exports",
                "year": int(y),
                "value": value,
                "source": "; ".join(dict.fromkeys(str(parts[c].at[y, "source"]) for c in parts)),
                "flags": "",
            }
        )
    for code in TRADE_CODES:
        latest = panel.latest(code, iso3=[partner], max_year=end_year)
        if len(latest) and pd.notna(latest["value"].iloc[0]):
            r = latest.iloc[0]
            rows.append(
                {
                    "indicator": code,
                    "year": int(r["year"]),
                    "value": float(r["value"]),
                    "source": str(r["source"]),
                    "flags": str(r["flags"] or ""),
                }
            )
    return pd.DataFrame(rows, columns=["indicator", "year", "value", "source", "flags"])


def _instruments(partner: str, end_year: int) -> pd.DataFrame:
    """Trade agreements, investment treaties and the tax treaty with their status on
    31 December of the end year (:func:`analysis.data.agreements.instruments`).

    ``status`` is ``in_force``, ``not_in_force`` or ``unknown`` (no date in the sources:
    never read as "not in force").
    """
    import datetime as dt

    from analysis.data.agreements import instruments

    rows = [
        {
            "kind": i.kind,
            "agreement": i.name,
            "state": i.status,
            "in_force_since": i.in_force_from.isoformat() if i.in_force_from else "",
            "flags": ";".join(i.flags),
            "note": i.text,
            "source": i.source,
        }
        for i in instruments(partner, dt.date(end_year, 12, 31))
    ]
    cols = ["kind", "agreement", "state", "in_force_since", "flags", "note", "source"]
    return pd.DataFrame(rows, columns=cols)


#: Ledger sectors of BKPM's partner x sector rows, per report sector (chemicals and
#: pharmaceuticals are one BKPM sector; a row for it is shown, named as published).
PARTNER_SECTOR_CODES: dict[str, tuple[str, ...]] = {
    "textile": ("textile", "footwear"),
    "chemical": ("chemical", "chem_pharma"),
    "pharma": ("pharma", "chem_pharma"),
}


def _investment_sides(ledger: Ledger, partner: str, sector: str) -> pd.DataFrame:
    """Investment by the partner in Indonesia from both sides, as published.

    BKPM's partner x sector rows (:meth:`Ledger.partner_sector`; realised, commitments and
    share statements kept apart by ``kind``), BKPM's figures for the partner quoted outside its
    yearly lists (host-side rows of the investor file), and the partner's own outward FDI
    statistics for Indonesia (:func:`analysis.data.investor.load_ofdi_by_industry`,
    source-side rows). Columns: side (``bkpm``, ``partner``), year, period, what (as
    published), value_usd_m, kind (BKPM's statement kind, or the partner's measure), source,
    and the structured fields a brief writes its text from: sector (ledger code),
    period_code, year_first, industry.
    """
    from analysis.data.investor import load_ofdi_by_industry

    rows = []
    ps = ledger.partner_sector(list(PARTNER_SECTOR_CODES[sector]))
    for r in ps[ps["partner_iso3"] == partner].itertuples(index=False):
        rows.append(
            {
                "side": "bkpm",
                "year": int(r.year),
                "period": str(r.period),
                "what": str(r.sector_published_name or r.sector),
                "value_usd_m": float(r.value_usd_m) if pd.notna(r.value_usd_m) else np.nan,
                "kind": str(r.kind),
                "source": str(r.source),
                "sector": str(r.sector),
                "period_code": str(r.period_code or ""),
                "year_first": int(r.year_first) if pd.notna(r.year_first) else None,
                "industry": "",
            }
        )
    of = load_ofdi_by_industry()
    of = of[
        (of["reporter_iso3"] == partner)
        & (of["counterpart"].str.strip().str.lower() == "indonesia")
    ]
    # BKPM's own figures for the partner quoted outside its yearly top-N lists (host side,
    # e.g. Germany's first half of 2023, rank 19): kept unless the ledger lists that value.
    panel = ledger.partner_panel([partner])
    listed = set(
        panel.loc[panel["status"] == "observed", ["year", "period"]].itertuples(
            index=False, name=None
        )
    )
    for r in of[of["side"] == "host_side"].itertuples(index=False):
        years = [int(y) for y in re.findall(r"\d{4}", str(r.period))]
        code = re.search(r"(Q[1-4]|H[12])$", str(r.period))
        if not years or (years[-1], code.group(1) if code else "FY") in listed:
            continue
        value = float(r.value_usd_m) if pd.notna(r.value_usd_m) else np.nan
        if any(  # the same statement already among BKPM's partner x sector rows
            x["year"] == years[-1] and abs(x["value_usd_m"] - value) <= 0.01 * abs(value)
            for x in rows
        ):
            continue
        rows.append(
            {
                "side": "bkpm",
                "year": years[-1],
                "period": str(r.period),
                "what": str(r.industry),
                "value_usd_m": float(r.value_usd_m) if pd.notna(r.value_usd_m) else np.nan,
                "kind": "realised",
                "source": str(r.source),
                "sector": "",
                "period_code": code.group(1) if code else "",
                "year_first": years[0],
                "industry": str(r.industry),
            }
        )
    for r in of[of["side"] == "source_side"].itertuples(index=False):
        rows.append(
            {
                "side": "partner",
                "year": int(r.year) if pd.notna(r.year) else None,
                "period": str(r.period),
                "what": f"{r.industry} ({r.measure})",
                "value_usd_m": float(r.value_usd_m) if pd.notna(r.value_usd_m) else np.nan,
                "kind": str(r.measure),
                "source": str(r.source),
                "sector": "",
                "period_code": "",
                "year_first": None,
                "industry": str(r.industry),
            }
        )
    cols = ["side", "year", "period", "what", "value_usd_m", "kind", "source"]
    cols += ["sector", "period_code", "year_first", "industry"]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["side", "year"], ascending=[True, False], ignore_index=True)


#: Data files a brief reads besides the ledger's and the partner panel's.
BRIEF_FILES: tuple[str, ...] = (
    "raw/bkpm/pma_by_country_sector.csv",
    "raw/bkpm/projects.csv",
    "raw/investor/ofdi_by_industry.csv",
    "raw/investor/sector_multinationals.csv",
    "raw/treaties/indonesia_bits.csv",
    "raw/treaties/indonesia_dtas.csv",
    "raw/partners/agreements_eif.csv",
    "raw/partners/agreements_eif_additions.csv",
    "raw/partners/agreements_eif_corrections.csv",
)

#: Firms named in a brief's sentence (best-ranked first; all are in the CSV).
FIRMS_SHOWN = 3

#: Project statuses in the order a brief lists them.
PROJECT_STATUSES: tuple[str, ...] = ("operating", "under_construction", "announced", "cancelled")


def _projects(partner: str, sector: str) -> pd.DataFrame:
    """The partner's firms' projects in Indonesia in the sector, by status
    (:func:`analysis.data.projects.load_projects`: operating, under construction,
    announced, cancelled), newest first within each status."""
    from analysis.data.projects import load_projects

    pr = load_projects()
    pr = pr[(pr["home_iso3"] == partner) & (pr["sector"] == sector)].copy()
    pr["order"] = pr["status"].map({k: i for i, k in enumerate(PROJECT_STATUSES)})
    pr = pr.sort_values(["order", "year_status"], ascending=[True, False])
    cols = ["company", "project", "amount_usd_m", "status", "year_announced", "year_status"]
    return pr[[*cols, "source"]].reset_index(drop=True)


def _firms(partner: str, sector: str) -> pd.DataFrame:
    """The partner's firms in the sector's league tables (latest list each), by rank."""
    from analysis.data.investor import load_multinationals

    mn = load_multinationals()
    mn = mn[(mn["iso3"] == partner) & (mn["sector"] == sector)]
    if mn.empty:
        return pd.DataFrame(columns=["company", "list_name", "list_year", "rank"])
    latest = mn.sort_values("list_year").groupby("company").tail(1)
    return latest.sort_values(["rank", "company"])[
        ["company", "list_name", "list_year", "rank"]
    ].reset_index(drop=True)


#: League-table publishers: (text in the list's title, the publisher's name as written).
_LEAGUE_PUBLISHERS: tuple[tuple[str, str], ...] = (
    ("C&EN", "C&EN"),
    ("ChemAnalyst", "ChemAnalyst"),
    ("ICIS", "ICIS"),
    ("Pharm Exec", "Pharm Exec"),
    ("Bloominglobal", "Bloominglobal"),
    ("Wazir", "Wazir Advisors"),
)


def _league(list_name: object) -> tuple[str | None, int | None]:
    """Publisher and size (``Top 100`` -> 100) of a league table, from its title."""
    text = str(list_name or "")
    publisher = next((name for key, name in _LEAGUE_PUBLISHERS if key in text), None)
    top = re.search(r"\btop (\d+)", text, flags=re.IGNORECASE)
    return publisher, int(top.group(1)) if top else None


def _company_name(name: object) -> str | None:
    """A project's company as a proper noun only: the compiler's English remarks in brackets
    ("JV with ...", "incl. ...") dropped, an Indonesian subsidiary ("PT ...") kept;
    None for an unnamed company ("Unnamed Korean shoe maker")."""
    text = str(name or "").strip()
    if re.match(r"unnamed\b", text, flags=re.IGNORECASE):
        return None

    def keep(match: re.Match[str]) -> str:
        inner = match.group(1).strip()
        return f" ({re.split(r'[,;]', inner)[0].strip()})" if inner.startswith("PT ") else ""

    text = re.sub(r"\s*\(([^()]*)\)", keep, text)
    text = re.sub(r"\s+consortium$", "", text, flags=re.IGNORECASE)
    return " ".join(text.split()) or None


def _agreement_name(name: str, language: str) -> str:
    """The agreement's name in the language: ``label.agreement.<short name>`` of the
    catalogue (its official Indonesian name where there is one), else the name as compiled."""
    m = messages(language)
    short = re.findall(r"\(([^()]+)\)\s*$", name)
    for key in (short[-1] if short else None, name):
        if key and m.has(f"label.agreement.{key}"):
            return m(f"label.agreement.{key}")
    return name


_SOURCE_CUT = re.compile(r":| via | bulk file| \(http|\(via | \[")


def _publisher(source: object) -> str:
    """The publisher part of a source reference (the full reference stays in the CSV)."""
    text = str(source or "").split(";")[0]
    return _SOURCE_CUT.split(text, maxsplit=1)[0].strip() or text


#: Publishers recognised in source references, in the order a source line names them
#: (pattern, catalogue key of the publisher's short name).
_PUBLISHERS: tuple[tuple[str, str], ...] = (
    (r"BKPM|ledger", "bkpm"),
    (r"World Bank|WDI", "wdi"),
    (r"IMF", "imf"),
    (r"UNCTAD", "unctad"),
    (r"Harvard Growth Lab|Atlas of Economic Complexity", "atlas"),
    (r"Ministry of Trade|BPS", "idn_trade"),
    (r"WITS|Comtrade", "comtrade"),
    (r"agreements", "agreements"),
    (r"countryinfo", "countryinfo"),
)


def _digits_of_unit(unit: object) -> int:
    """Decimals for an indicator value: none for US$ million and 0/1, else one."""
    text = str(unit or "")
    return 0 if text.startswith(("US$ million", "0/1")) else 1


def _publishers(sources, m) -> str:
    """The publishers named in ``sources`` (one reference per item), as one phrase."""
    text = " ; ".join(str(x) for x in sources if isinstance(x, str))
    found = [m(f"brief.publisher_{k}") for pat, k in _PUBLISHERS if re.search(pat, text)]
    others = 0
    for ref in (p.strip() for x in sources if isinstance(x, str) for p in str(x).split(";")):
        if ref and not any(re.search(pat, ref) for pat, _ in _PUBLISHERS):
            others += 1
    if others:
        found.append(m("brief.publisher_others"))
    return ", ".join(found) if found else m("common.not_available")
