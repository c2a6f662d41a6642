"""Evidence beside the partner ranking: documented investors and pending agreements' effects.

- :func:`documented_table`: per sector, the rank of the partners that the compiled partner x
  sector data (realised PMA, statements naming the industry's main investors) and the
  projects (by home country) show investing in the Indonesian industry
  (:func:`analysis.models.investor_evidence.documented_investors`). The same evidence enters the
  sector pillar (``sector_pma``, ``sector_named``, ``project_pipeline``), so the yardstick
  ranking is re-run with those indicators held out (:data:`HELD_OUT`); both ranks are shown.
- :func:`agreement_table`: each candidate's pending agreement (IEU-CEPA members, Canada, the
  EAEU, Peru) and its effect on actual flows with the interval, read through the gravity
  study's one public function :func:`analysis.studies.gravity.agreement_effects` (no refit).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from analysis.base.vocab import partner_name
from analysis.models.ranking import IndicatorSet, RankingResult, RankingSettings, rank_partners

__all__ = [
    "DOCUMENTED_COLUMNS",
    "HELD_OUT",
    "agreement_table",
    "documented_table",
    "with_left_out",
]

#: Indicators built from the documented-investor evidence itself: held out of the yardstick.
HELD_OUT = ("sector_pma", "sector_named", "project_pipeline")
DOCUMENTED_COLUMNS = [
    "partner_iso3",
    "partner_name",
    "evidence",
    "rank_full",
    "median_rank_full",
    "rank_held_out",
    "median_rank",
    "band_low",
    "band_high",
]
AGREEMENT_COLUMNS = [
    "partner_iso3",
    "partner_name",
    "agreement",
    "rank",
    "flow_usd_m",
    "flow_status",
    "effect_usd_m",
    "lo",
    "hi",
    "model_effect_usd_m",
    "model_lo",
    "model_hi",
]


def _evidence_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Realised partner x sector rows (with BKPM's host-side rows) and the projects."""
    from analysis.data.investor import load_ofdi_by_industry
    from analysis.data.projects import load_projects
    from analysis.data.sector_pma import load_partner_sector
    from analysis.models.investor_evidence import host_side_sector_rows

    rows = pd.concat(
        [load_partner_sector(), host_side_sector_rows(load_ofdi_by_industry())],
        ignore_index=True,
    )
    return rows, load_projects()


def held_out_ranking(data: IndicatorSet, settings: RankingSettings) -> RankingResult:
    """The ranking with the documented-investor indicators held out (bands, no Sobol/audit)."""
    drop = [c for c in HELD_OUT if c in data.values.columns]
    held = data.drop(drop)
    iw = {k: v for k, v in settings.indicator_weights.items() if k not in drop}
    return rank_partners(
        held, replace(settings, indicator_weights=iw), sensitivity=False, audit=False
    )


def documented_table(
    data: IndicatorSet,
    result: RankingResult,
    settings: RankingSettings,
    sector: str,
    evidence: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Documented investors of ``sector`` with their rank in the full and held-out rankings.

    Parameters
    ----------
    data, result, settings
        The sector's indicator set, its ranking and the settings it used.
    sector
        Report sector.
    evidence
        ``(partner x sector rows, projects)``; default: the compiled files.

    Returns
    -------
    pandas.DataFrame
        :data:`DOCUMENTED_COLUMNS`: nominal and median rank of the full ranking, nominal
        rank, median rank and 5-95 % band of the held-out ranking. Partners that are not
        candidates are left out.
    """
    from analysis.models.investor_evidence import documented_investors

    rows, projects = evidence if evidence is not None else _evidence_tables()
    docs = documented_investors(rows, projects, sector)
    docs = docs[docs["partner_iso3"].isin(data.values.index)]
    if docs.empty:
        return pd.DataFrame(columns=DOCUMENTED_COLUMNS)
    held = held_out_ranking(data, settings).table.set_index("partner_iso3")
    full = result.table.set_index("partner_iso3")
    iso = docs["partner_iso3"]
    out = pd.DataFrame(
        {
            "partner_iso3": iso.to_numpy(),
            "partner_name": iso.map(partner_name).to_numpy(),
            "evidence": docs["evidence"].to_numpy(),
            "rank_full": iso.map(full["rank"]).astype(float).to_numpy(),
            "median_rank_full": iso.map(full["median_rank"]).astype(float).to_numpy(),
            "rank_held_out": iso.map(held["rank"]).astype(float).to_numpy(),
            "median_rank": iso.map(held["median_rank"]).astype(float).to_numpy(),
            "band_low": iso.map(held["rank_p05"]).astype(float).to_numpy(),
            "band_high": iso.map(held["rank_p95"]).astype(float).to_numpy(),
        }
    )
    return out.sort_values(["rank_held_out", "partner_iso3"], na_position="last").reset_index(
        drop=True
    )


def documented_summary(table: pd.DataFrame, top: int = 10) -> dict[str, float]:
    """How many documented investors are in the top ``top``: full and held out, and the
    median of their held-out ranks."""
    n = len(table)
    held = table["rank_held_out"]
    return {
        "n": n,
        "top_full": int((table["rank_full"] <= top).sum()),
        "top_held_out": int((held <= top).sum()),
        "median_held_out": float(np.nanmedian(held)) if held.notna().any() else np.nan,
        "top": top,
    }


def agreement_table(effects: pd.DataFrame, ranking: pd.DataFrame) -> pd.DataFrame:
    """Candidates with a pending agreement: the effect on actual flows with its interval.

    ``effects`` is :func:`analysis.studies.gravity.agreement_effects`' table (read, never
    refitted); ``ranking`` the ranking table (``partner_iso3``, ``rank``). The model-baseline
    effect is shown beside it for members without a measured flow (labelled ``model_``).
    """
    if effects is None or effects.empty:
        return pd.DataFrame(columns=AGREEMENT_COLUMNS)
    cands = set(ranking["partner_iso3"])
    e = effects[effects["partner_iso3"].isin(cands)]
    actual = e[e["basis"] == "actual"].set_index(["agreement", "partner_iso3"])
    model = e[e["basis"] == "model"].set_index(["agreement", "partner_iso3"])
    rank = ranking.set_index("partner_iso3")["rank"]
    rows = []
    for (agreement, iso), r in actual.iterrows():
        m = model.loc[(agreement, iso)] if (agreement, iso) in model.index else None
        rows.append(
            {
                "partner_iso3": iso,
                "partner_name": partner_name(iso),
                "agreement": agreement,
                "rank": float(rank.get(iso, np.nan)) if pd.notna(rank.get(iso)) else np.nan,
                "flow_usd_m": r["flow_usd_m"],
                "flow_status": r["flow_status"],
                "effect_usd_m": r["effect_usd_m"],
                "lo": r["lo"],
                "hi": r["hi"],
                "model_effect_usd_m": np.nan if m is None else m["effect_usd_m"],
                "model_lo": np.nan if m is None else m["lo"],
                "model_hi": np.nan if m is None else m["hi"],
            }
        )
    out = pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)
    return out.sort_values(["rank", "partner_iso3"], na_position="last").reset_index(drop=True)


def with_left_out(weights: pd.DataFrame, data: IndicatorSet, rs: RankingSettings) -> pd.DataFrame:
    """The effective weights with unit, source, years and how many candidates each indicator
    covers (a value or an interval); indicators the coverage rule left out are listed with
    weight 0 and the count, never silently dropped."""
    have = data.values.notna()
    if data.upper is not None:
        have |= data.upper.notna()
    n = have.sum()
    total = len(data.values)
    meta = data.meta[["label", "pillar", "unit", "source", "year"]]
    out = weights.merge(meta[["unit", "source", "year"]], left_on="indicator", right_index=True,
                        how="left")  # fmt: skip
    out["note"] = ""
    left = [c for c in data.values.columns if c not in set(weights["indicator"])]
    if left:
        extra = meta.loc[left].reset_index(names="indicator")
        extra["note"] = [
            f"left out: {int(n[c])} of {total} candidates covered (rule: at least "
            f"{rs.min_indicator_coverage:.0%})"
            for c in left
        ]
        extra[["pillar_weight", "weight_in_pillar", "effective_weight"]] = 0.0
        out = pd.concat([out, extra[out.columns]], ignore_index=True)
    out["candidates"] = out["indicator"].map(n).astype(int)
    return out
