"""The partner panel's conflict rule: clusters of candidates resolved to one value, and derived
series.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .mappings import _INHERITED, _PUBLISHER_RANK, DERIVED, FRAME_COLUMNS, RULES
from .readers import _CAND

# --- conflict rule ---------------------------------------------------------------------


def _agree(a: dict, b: dict, rtol: float) -> bool:
    tol = max(a["half_unit"], b["half_unit"]) + rtol * max(abs(a["value"]), abs(b["value"]))
    return abs(a["value"] - b["value"]) <= tol + 1e-12


def _cluster_key(cl: list[dict]) -> tuple:
    return (
        all(c["suspect"] for c in cl),
        min(c["tier"] for c in cl),
        min(c["rank"] for c in cl),
        _Desc(max(c["vintage"] for c in cl)),
        not any(c["direct"] for c in cl),
        -len(cl),
        min(c["order"] for c in cl),
    )


@dataclass(frozen=True, order=False)
class _Desc:
    """Wrap a string so that later (larger) values sort first."""

    text: str

    def __lt__(self, other: _Desc) -> bool:
        return self.text > other.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and self.text == other.text

    def __hash__(self) -> int:
        return hash(self.text)


def _join(values: Iterable[str]) -> str:
    seen: list[str] = []
    for v in values:
        for part in str(v).split(";"):
            if part and part not in seen:
                seen.append(part)
    return ";".join(sorted(seen))


def _resolve(cand: pd.DataFrame, rtol: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Collapse candidates to one value per cell; return (cells, conflicts)."""
    key = ["iso3", "year", "indicator"]
    if cand.empty:
        return pd.DataFrame(columns=[*FRAME_COLUMNS, "n_sources", "lines"]), pd.DataFrame()
    cand = cand.reset_index(drop=True)
    size = cand.groupby(key, sort=False)["value"].transform("size")
    single = cand[size == 1]
    out = [single[list(FRAME_COLUMNS)].assign(n_sources=1, lines=single["line"].to_numpy())]
    cells, conflicts = [], []
    groups: dict[tuple, list[dict]] = {}
    for rec in cand[size > 1].to_dict("records"):
        groups.setdefault((rec["iso3"], rec["year"], rec["indicator"]), []).append(rec)
    for (iso3, year, code), members in groups.items():
        members.sort(
            key=lambda c: (
                c["suspect"],
                c["tier"],
                c["rank"],
                _Desc(c["vintage"]),
                not c["direct"],
                c["order"],
            )
        )
        clusters: list[list[dict]] = []
        for c in members:
            for cl in clusters:
                if _agree(cl[0], c, rtol):
                    cl.append(c)
                    break
            else:
                clusters.append([c])
        ranked = sorted(clusters, key=_cluster_key)
        best = ranked[0]
        rep = best[0]
        # The kept value carries its own flags; agreeing sources add only multi_source.
        flags = rep["flags"]
        extra = []
        if len(best) > 1:
            extra.append("multi_source")
        rule = ""
        if len(ranked) > 1:
            k0, k1 = _cluster_key(best), _cluster_key(ranked[1])
            rule = next((n for n, a, b in zip(RULES, k0, k1, strict=True) if a != b), RULES[-1])
            extra.append("conflict_resolved")
            if rule == "file_order":
                extra.append("conflict_tie")
            for i, cl in enumerate(ranked):
                conflicts.append(
                    {
                        "iso3": iso3,
                        "year": int(year),
                        "indicator": code,
                        "value": cl[0]["value"],
                        "unit": cl[0]["unit"],
                        "sources": " | ".join(dict.fromkeys(c["source"] for c in cl)),
                        "vintage": max(c["vintage"] for c in cl),
                        "n_sources": len(cl),
                        "kept": i == 0,
                        "rule": rule,
                        "flags": _join(c["flags"] for c in cl),
                        "lines": "; ".join(c["line"] for c in cl),
                    }
                )
        cells.append(
            {
                "iso3": iso3,
                "year": int(year),
                "indicator": code,
                "value": rep["value"],
                "unit": rep["unit"],
                "source": " | ".join(dict.fromkeys(c["source"] for c in best)),
                "vintage": rep["vintage"],
                "flags": _join([flags, *extra]),
                "n_sources": len(best),
                "lines": "; ".join(c["line"] for c in best),
            }
        )
    if cells:
        out.append(pd.DataFrame(cells))
    frame = pd.concat(out, ignore_index=True)
    conf = pd.DataFrame(conflicts)
    return frame, conf


def _derive(
    cells: pd.DataFrame, catalogue_units: dict[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """FDI in US$ = % of GDP / 100 x GDP (both resolved cells of the same economy-year)."""
    gdp = cells[cells["indicator"] == "gdp_usd"].set_index(["iso3", "year"])
    frames, conv = [], []
    for code, pct_code in DERIVED.items():
        pct = cells[cells["indicator"] == pct_code].set_index(["iso3", "year"])
        both = pct.merge(
            gdp, how="inner", left_index=True, right_index=True, suffixes=("_pct", "_gdp")
        )
        if both.empty:
            continue
        value = both["value_pct"] / 100.0 * both["value_gdp"]
        flags = [
            _join(["derived", *(set(f"{a};{b}".split(";")) & _INHERITED)])
            for a, b in zip(both["flags_pct"], both["flags_gdp"], strict=True)
        ]
        idx = both.index
        frames.append(
            pd.DataFrame(
                {
                    "iso3": idx.get_level_values(0),
                    "year": idx.get_level_values(1).astype(int),
                    "indicator": code,
                    "value": value.to_numpy(),
                    "unit": catalogue_units[code],
                    "source": (
                        "derived: "
                        + pct_code
                        + " / 100 x gdp_usd; "
                        + both["source_pct"]
                        + " x "
                        + both["source_gdp"]
                    ).to_numpy(),
                    "vintage": both["vintage_pct"].to_numpy(),
                    "flags": flags,
                    "suspect": False,
                    "tier": 0,
                    "rank": _PUBLISHER_RANK["wdi"],
                    "direct": False,
                    "half_unit": 0.0,
                    "line": (both["lines_pct"] + "; " + both["lines_gdp"]).to_numpy(),
                }
            )
        )
        conv.append(
            pd.DataFrame(
                {
                    "iso3": idx.get_level_values(0),
                    "year": idx.get_level_values(1).astype(int),
                    "indicator": code,
                    "kind": "derived",
                    "value_published": both["value_pct"].to_numpy(),
                    "unit_published": "% of GDP",
                    "currency": "USD",
                    "rate_per_usd": np.nan,
                    "rate_basis": f"{pct_code} / 100 x gdp_usd of the same cell",
                    "rate_source": both["source_gdp"].to_numpy(),
                    "rate_line": both["lines_gdp"].to_numpy(),
                    "value": value.to_numpy(),
                    "unit": catalogue_units[code],
                    "line": both["lines_pct"].to_numpy(),
                }
            )
        )
    empty = pd.DataFrame(columns=list(_CAND))
    return (
        pd.concat(frames, ignore_index=True) if frames else empty,
        pd.concat(conv, ignore_index=True) if conv else pd.DataFrame(),
    )
