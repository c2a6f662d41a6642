"""The investment ledger: one validated observation per published cell.

:func:`build_ledger` turns the raw candidate rows into analysable tables:

1. **Units.** Each figure is expressed in its measure's canonical unit (PMA in US$ million,
   PMDN and totals in Rp billion) and, for cross-measure identities, in Rp billion
   (``value_idr_bn``). A change of currency goes through the exchange-rate table on the
   chosen basis (:mod:`analysis.data.units`) and is flagged ``fx_converted``.
2. **Duplicates.** Candidates of one cell that agree (equal up to the rounding of the
   coarser print; across currencies, within ``fx_rtol``) form one observation that lists
   every source.
3. **Conflicts.** When a cell holds different values, one is chosen by the rule below and
   the cell is listed in :attr:`Ledger.conflicts` with every value and source.
4. **Identities.** PMA + PMDN = total and quarters adding up to H1, 9M and FY are checked
   (:attr:`Ledger.identities`); violations beyond rounding are reported, never fixed.
5. **Derivations.** Discrete quarters are derived from cumulative figures (Q2 = H1 - Q1,
   Q3 = 9M - H1, Q4 = FY - 9M) and cumulative figures from complete quarters, each flagged
   ``derived`` with its formula.
6. **Censoring.** Country lists are top-N lists: :meth:`Ledger.partner_panel` gives an
   unlisted partner an explicit upper bound (the smallest listed value), not a zero.

Conflict rule (first criterion that separates the values wins)
--------------------------------------------------------------
1. ``not_suspect``: values whose every source is flagged suspect, superseded or preliminary
   lose to any other value.
2. ``official_table``: a value from an imported BKPM realisation table, or from a release
   added to the import area (flag ``imported_release``), beats press reports.
3. ``canonical_currency``: a value printed in the measure's own currency beats one that
   had to be converted.
4. ``latest_publication``: the later publication wins (revisions supersede earlier prints;
   a prior-year comparison quoted in a later release carries the revised figure).
5. ``more_sources``: the value reported by more outlets wins.
6. ``file_order``: otherwise the first value in file order is kept and the conflict is
   flagged ``conflict_tie`` for a human to settle.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import paths
from analysis.data.provenance import data_fingerprint, verify_file
from analysis.data.raw import (
    RAW_FILES,
    load_country_file,
    load_sector_file,
    load_year_file,
    raw_files,
)
from analysis.data.sectors import FIRST_CLASS, load_sector_map
from analysis.data.units import FX_ADDITIONS_FILE, FX_BASES, FX_FILE, FxTable, load_fx_table
from analysis.summary import Summary
from analysis.vocab import (
    AGGREGATE_PARTNERS,
    CANONICAL_UNITS,
    CUMULATIVE,
    KEY_COLUMNS,
    QUARTERS,
    UNITS,
)

__all__ = ["Ledger", "LedgerSettings", "build_ledger"]

SERIES_COLUMNS = tuple(c for c in KEY_COLUMNS if c != "period")
# A figure whose every source carries one of these loses a conflict; ``conflict_noted``
# is the compilers' "CONFLICT" (they write it on the figure they doubt).
_WEAK = frozenset({"suspect", "superseded", "preliminary", "conflict_noted"})
_EPS = 1e-9
# Quality flags a derived figure inherits from the figures it is computed from.
_INHERITED = frozenset(
    {
        "suspect",
        "period_uncertain",
        "approximate",
        "scope_assumed",
        "conflict_tie",
        "superseded",
        "preliminary",
    }
)


@dataclass(frozen=True)
class LedgerSettings:
    """Choices that shape the ledger; recorded with every result built on it.

    Parameters
    ----------
    fx_basis
        Exchange-rate basis for currency conversions: ``apbn`` (BKPM's convention) or
        ``market``.
    fx_fallback
        Basis used for a year the main basis does not cover (flagged), or None to leave
        such conversions missing (flagged ``fx_unavailable``).
    fx_rtol
        Relative tolerance when comparing figures printed in different currencies. The
        default 0.08 covers the largest gap between the APBN assumption and the market
        average in 2015-2024 (7.1 % in 2015), so a basis difference is not called a conflict.
    min_list_size
        A country list from one source with at least this many countries is read as a
        top-N list (and so censors unlisted partners).
    derive
        Derive quarters from cumulative figures and vice versa.
    """

    fx_basis: str = "apbn"
    fx_fallback: str | None = "market"
    fx_rtol: float = 0.08
    min_list_size: int = 3
    derive: bool = True

    def __post_init__(self) -> None:
        if self.fx_basis not in FX_BASES:
            raise ValueError(f"fx_basis must be one of {FX_BASES}, got {self.fx_basis!r}")
        if self.fx_fallback is not None and self.fx_fallback not in FX_BASES:
            raise ValueError(
                f"fx_fallback must be one of {FX_BASES} or None, got {self.fx_fallback!r}"
            )
        if not 0 <= self.fx_rtol < 1:
            raise ValueError(f"fx_rtol must be in [0, 1), got {self.fx_rtol!r}")
        if self.min_list_size < 1:
            raise ValueError(f"min_list_size must be >= 1, got {self.min_list_size!r}")


# --- step 1: units ---------------------------------------------------------------------


def _canonicalise(cand: pd.DataFrame, fx: FxTable, settings: LedgerSettings) -> pd.DataFrame:
    """Add canonical ``value``/``unit``, ``value_idr_bn``, half-units and FX columns."""
    cand = cand.copy()
    cur = cand["unit_published"].map(lambda u: UNITS[u][0])
    scale = cand["unit_published"].map(lambda u: UNITS[u][1])
    unit = cand["measure"].map(CANONICAL_UNITS)
    cur_to = unit.map(lambda u: UNITS[u][0])
    scale_to = unit.map(lambda u: UNITS[u][1])
    rates = {
        y: fx.rate(int(y), settings.fx_basis, settings.fx_fallback) for y in cand["year"].unique()
    }
    rate = cand["year"].map(lambda y: rates[y].rate if rates[y] is not None else np.nan)
    basis = cand["year"].map(lambda y: rates[y].basis if rates[y] is not None else pd.NA)
    amount = cand["value_published"] * scale  # in currency units
    half = 0.5 * 10.0 ** (-cand["decimals"].astype(float)) * scale
    needs = cur != cur_to
    to_idr = np.where(cur == "IDR", 1.0, rate)
    to_usd = np.where(cur == "USD", 1.0, 1.0 / rate)
    factor = np.where(cur_to == "IDR", to_idr, to_usd)
    cand["unit"] = unit
    cand["value"] = amount * factor / scale_to
    cand["half_unit"] = half * factor / scale_to
    cand["value_idr_bn"] = amount * to_idr / 1e9
    cand["half_unit_idr_bn"] = half * to_idr / 1e9
    cand["currency_published"] = cur
    cand["fx_converted"] = needs
    uses_fx = needs | (cur == "USD")  # value_idr_bn of a US$ figure also needs a rate
    cand["fx_basis"] = basis.where(uses_fx, pd.NA).astype("string")
    cand["fx_rate"] = rate.where(uses_fx, np.nan)
    flags = []
    for row_flags, conv, usd, y in zip(
        cand["flags"], needs, cur == "USD", cand["year"], strict=True
    ):
        extra: list[str] = []
        if conv:
            extra.append("fx_converted")
        if conv or usd:
            r = rates[y]
            extra += list(r.flags) if r is not None else ["fx_unavailable"]
        flags.append(tuple(sorted(set(row_flags) | set(extra))))
    cand["flags"] = flags
    return cand


# --- steps 2-3: duplicates and conflicts -------------------------------------------------


def _missing(v: object) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def _agree(a: dict, b: dict, rtol: float) -> bool:
    """Do two candidates of one cell print the same figure (up to rounding / FX basis)?"""
    va, vb = a["value"], b["value"]
    if math.isnan(va) or math.isnan(vb):
        va, vb = a["value_idr_bn"], b["value_idr_bn"]
        tol = max(a["half_unit_idr_bn"], b["half_unit_idr_bn"])
    else:
        tol = max(a["half_unit"], b["half_unit"])
    if math.isnan(va) or math.isnan(vb):
        return a["value_published"] == b["value_published"] and (
            a["unit_published"] == b["unit_published"]
        )
    if a["currency_published"] != b["currency_published"]:
        tol += rtol * max(abs(va), abs(vb))
    return abs(va - vb) <= tol + _EPS * max(abs(va), abs(vb), 1.0)


def _cluster(rows: list[dict], rtol: float) -> list[list[dict]]:
    """Group a cell's candidates into sets of agreeing values, most precise print first."""
    order = sorted(
        rows,
        key=lambda r: (
            bool(r["fx_converted"]),
            -int(r["decimals"]),
            -_date_key("" if _missing(r["published"]) else str(r["published"])),
            int(r["line"]),
        ),
    )
    clusters: list[list[dict]] = []
    for row in order:
        for members in clusters:
            if _agree(members[0], row, rtol):
                members.append(row)
                break
        else:
            clusters.append([row])
    return clusters


_RULES = (
    "not_suspect",
    "official_table",
    "identities",
    "canonical_currency",
    "latest_publication",
    "more_sources",
    "file_order",
)


def _cluster_id(rows: list[dict]) -> tuple:
    """Identify a set of agreeing candidates across passes (cell + its first file line)."""
    first = min(rows, key=lambda r: (str(r["file"]), int(r["line"])))
    return (*(first[k] for k in KEY_COLUMNS), str(first["file"]), int(first["line"]))


def _cluster_rank(rows: list[dict], evidence: dict[tuple, int] | None = None) -> tuple:
    """Sort key of a set of agreeing candidates under the conflict rule (lower wins).

    ``evidence`` maps a cluster (:func:`_cluster_id`) to the number of identities its value
    violates given the neighbouring cells (:func:`_identity_evidence`).
    """
    weak = all(bool(_WEAK & set(r["flags"])) for r in rows)
    official = any(r["dataset"] == "realisation" or "imported_release" in r["flags"] for r in rows)
    canonical = any(not r["fx_converted"] for r in rows)
    dates = [str(r["published"]) for r in rows if not _missing(r["published"])]
    press = [
        int(r["line"])
        for r in rows
        if r["dataset"] != "realisation" and "imported_release" not in r["flags"]
    ]
    violations = (evidence or {}).get(_cluster_id(rows), 0)
    return (
        int(weak),
        int(not official),
        violations,
        int(not canonical),
        -max((_date_key(d) for d in dates), default=0),
        -len({r["source"] for r in rows}),
        min(press) if press else 0,
    )


def _date_key(text: str) -> int:
    """Turn ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` into a sortable integer (0 if absent)."""
    if not text:
        return 0
    parts = [int(p) for p in text.split("-")] + [0, 0]
    return parts[0] * 10_000 + parts[1] * 100 + parts[2]


def _deciding_rule(best: tuple, second: tuple) -> str:
    for name, a, b in zip(_RULES, best, second, strict=True):
        if a != b:
            return name
    return "file_order"


def _join(values: Iterable[object]) -> str:
    seen: list[str] = []
    for v in values:
        if _missing(v):
            continue
        text = str(v)
        if text and text not in seen:
            seen.append(text)
    return " | ".join(seen)


def _latest(rows: list[dict]) -> object:
    dates = [str(r["published"]) for r in rows if not _missing(r["published"])]
    return max(dates, key=_date_key) if dates else pd.NA


def _observation(rows: list[dict], rule: str, n_clusters: int) -> dict[str, object]:
    rep = rows[0]  # the most precise print (see _cluster ordering)
    flags = set.intersection(*(set(r["flags"]) for r in rows))
    flags |= {f for r in rows for f in r["flags"] if f.startswith("fx_")}
    if len(rows) > 1:
        flags.add("multi_source")
    if n_clusters > 1:
        flags.add("conflict_resolved")
        if rule == "file_order":
            flags.add("conflict_tie")
    return {
        **{k: rep[k] for k in KEY_COLUMNS},
        "value": rep["value"],
        "unit": rep["unit"],
        "value_idr_bn": rep["value_idr_bn"],
        "half_unit": rep["half_unit"],
        "half_unit_idr_bn": rep["half_unit_idr_bn"],
        "value_published": rep["value_published"],
        "unit_published": rep["unit_published"],
        "decimals": int(rep["decimals"]),
        "fx_basis": rep["fx_basis"],
        "fx_rate": rep["fx_rate"],
        "projects": rep["projects"],
        "dataset": rep["dataset"],
        "origin": "published",
        "derived_from": "",
        "n_sources": len({r["source"] for r in rows}),
        "sources": _join(r["source"] for r in rows),
        "published": _latest(rows),
        "notes": _join(r["note"] for r in rows),
        "flags": ";".join(sorted(flags)),
        "conflict_rule": rule,
        "lines": _join(f"{r['file']}:{r['line']}" for r in rows),
    }


def _collapse(
    cand: pd.DataFrame,
    rtol: float,
    evidence: dict[tuple, int] | None = None,
    alternatives: list[tuple[tuple, dict]] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Return observations (one per cell), conflicts, and candidates with their fate.

    ``alternatives``, if given, collects (cluster id, observation) for every value of every
    disputed cell, so identities can be checked for each.
    """
    cand = cand.reset_index(drop=True)
    cand["cell"] = cand.groupby(list(KEY_COLUMNS), sort=True, dropna=False).ngroup()
    records = cand.to_dict("records")
    for i, r in enumerate(records):
        r["_i"] = i
    cluster_of = np.zeros(len(cand), dtype=int)
    chosen = np.zeros(len(cand), dtype=bool)
    obs_rows: list[dict[str, object]] = []
    conflict_rows: list[dict[str, object]] = []
    for _cell_id, idx in sorted(cand.groupby("cell").indices.items()):
        rows = [records[i] for i in idx]
        clusters = _cluster(rows, rtol) if len(rows) > 1 else [rows]
        ranks = [_cluster_rank(m, evidence) for m in clusters]
        if alternatives is not None and len(clusters) > 1:
            alternatives.extend((_cluster_id(m), _observation(m, "", 1)) for m in clusters)
        order = sorted(range(len(clusters)), key=lambda i: ranks[i])
        for n, i in enumerate(order):
            for r in clusters[i]:
                cluster_of[r["_i"]] = n
        best = clusters[order[0]]
        for r in best:
            chosen[r["_i"]] = True
        rule = _deciding_rule(ranks[order[0]], ranks[order[1]]) if len(clusters) > 1 else ""
        obs = _observation(best, rule, len(clusters))
        obs_rows.append(obs)
        if len(clusters) > 1:
            rep = best[0]
            others = [clusters[i] for i in order[1:]]
            conflict_rows.append(
                {
                    **{k: rep[k] for k in KEY_COLUMNS},
                    "n_values": len(clusters),
                    "chosen_value": rep["value"],
                    "unit": rep["unit"],
                    "chosen_published": f"{rep['value_published']:g} {rep['unit_published']}",
                    "chosen_sources": obs["sources"],
                    "rule": rule,
                    "other_values": " ; ".join(
                        f"{o[0]['value_published']:g} {o[0]['unit_published']}"
                        f" [{_join(r['source'] for r in o)}; published "
                        f"{_join(r['published'] for r in o) or '?'}]"
                        for o in others
                    ),
                    "max_rel_diff": max(
                        abs(o[0]["value"] - rep["value"]) / abs(rep["value"])
                        if rep["value"]
                        else np.inf
                        for o in others
                    ),
                    "lines": _join(f"{r['file']}:{r['line']}" for r in rows),
                }
            )
    cand["cluster"] = cluster_of
    cand["chosen"] = chosen
    return pd.DataFrame(obs_rows), pd.DataFrame(conflict_rows), cand


def _involves(check: dict, row: dict) -> bool:
    """Does an identity check (from the identity functions) involve the cell ``row``?"""
    if check["identity"] == "pma+pmdn=total":
        return check["period"] == row["period"]
    terms = str(check["equation"]).replace("=", "+").split("+")
    return check["measure"] == row["measure"] and row["period"] in {t.strip() for t in terms}


def _identity_evidence(
    obs: pd.DataFrame, alternatives: list[tuple[tuple, dict]], rtol: float
) -> dict[tuple, int]:
    """Count, for each value of a disputed cell, the identities it violates.

    Each alternative replaces its cell among the first-pass observations of the same
    (concept, year, sector, region, partner); ``pma + pmdn = total`` and the period sums
    that involve the cell are checked. A value that fits its neighbours is evidence for it.
    """
    cols = [c for c in KEY_COLUMNS if c not in ("measure", "period")]
    groups = obs.groupby(cols, dropna=False, sort=False).indices
    evidence: dict[tuple, int] = {}
    for cid, row in alternatives:
        gkey = tuple(row[c] for c in cols)
        idx = groups.get(gkey if len(gkey) > 1 else gkey[0])
        if idx is None:
            continue
        sub = obs.iloc[idx]
        sub = sub[~((sub["measure"] == row["measure"]) & (sub["period"] == row["period"]))]
        sub = pd.concat([sub, pd.DataFrame([row])[sub.columns]], ignore_index=True)
        checks = _measure_identities(sub, rtol) + _time_identities(sub, rtol)
        evidence[cid] = sum(1 for c in checks if c["status"] == "violation" and _involves(c, row))
    return evidence


def _precise_sums(obs: pd.DataFrame, conflicts: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Replace a rounded headline total by the precise sum of its published parts.

    A total flagged ``approximate`` (printed rounded, "Rp307 triliun") whose PMA and PMDN
    are both published without quality flags, and which breaks ``pma + pmdn = total``
    beyond its rounding, takes the value PMA + PMDN (flag ``precise_sum``); the headline
    stays listed in ``conflicts`` with rule ``precise_sum``.
    """
    cols = [c for c in KEY_COLUMNS if c != "measure"]
    obs = obs.copy()
    new_conflicts = []
    weak = _WEAK | {"approximate", "period_uncertain"}
    for _key, idx in obs.groupby(cols, dropna=False, sort=False).indices.items():
        rows = obs.iloc[idx]
        by = {m: rows.index[rows["measure"] == m] for m in ("pma", "pmdn", "total")}
        if any(len(v) != 1 for v in by.values()):
            continue
        t, a, d = (obs.loc[by[m][0]] for m in ("total", "pma", "pmdn"))
        if "approximate" not in str(t["flags"]).split(";"):
            continue
        if any(weak & set(str(r["flags"]).split(";")) for r in (a, d)):
            continue
        total = float(a["value_idr_bn"]) + float(d["value_idr_bn"])
        half = float(a["half_unit_idr_bn"]) + float(d["half_unit_idr_bn"])
        if not math.isfinite(total) or abs(total - float(t["value_idr_bn"])) <= half + float(
            t["half_unit_idr_bn"]
        ):
            continue
        i = by["total"][0]
        new_conflicts.append(
            {
                **{k: t[k] for k in KEY_COLUMNS},
                "n_values": 2,
                "chosen_value": total,
                "unit": t["unit"],
                "chosen_published": f"PMA + PMDN = {total / 1000:g} Rp trillion",
                "chosen_sources": _join([a["sources"], d["sources"]]),
                "rule": "precise_sum",
                "other_values": f"{t['value_published']:g} {t['unit_published']} (rounded) "
                f"[{t['sources']}]",
                "max_rel_diff": abs(float(t["value_idr_bn"]) - total) / total,
                "lines": _join([t["lines"], a["lines"], d["lines"]]),
            }
        )
        flags = set(str(t["flags"]).split(";")) - {""} | {"precise_sum", "conflict_resolved"}
        obs.loc[i, "value"] = total
        obs.loc[i, "value_idr_bn"] = total
        obs.loc[i, "half_unit"] = half
        obs.loc[i, "half_unit_idr_bn"] = half
        obs.loc[i, "derived_from"] = "PMA + PMDN (replaces the rounded headline)"
        obs.loc[i, "flags"] = ";".join(sorted(flags))
        obs.loc[i, "conflict_rule"] = "precise_sum"
        obs.loc[i, "sources"] = _join([t["sources"], a["sources"], d["sources"]])
    if new_conflicts:
        conflicts = pd.concat([conflicts, pd.DataFrame(new_conflicts)], ignore_index=True)
    return obs, conflicts


# --- steps 4-5: identities and derivations ----------------------------------------------


def _check(
    kind: str,
    key: dict,
    lhs_label: str,
    lhs: pd.Series,
    terms: list[pd.Series],
    col: str,
    rtol: float,
) -> dict[str, object]:
    half = "half_unit_idr_bn" if col == "value_idr_bn" else "half_unit"
    rhs = float(sum(t[col] for t in terms))
    tol = float(lhs[half] + sum(t[half] for t in terms))
    diff = float(lhs[col]) - rhs
    status = "ok" if abs(diff) <= tol + _EPS * max(abs(rhs), 1.0) else "violation"
    # A term is exposed to the exchange-rate basis when reaching `col` needed a rate.
    if col == "value_idr_bn":
        converted = [
            t
            for t in (lhs, *terms)
            if str(t["unit_published"]).startswith("US$")
            or (t["origin"] == "derived" and "fx_" in str(t["flags"]))
        ]
    else:
        converted = [t for t in (lhs, *terms) if "fx_converted" in str(t["flags"])]
    if status == "violation" and converted:
        fx_tol = tol + rtol * sum(abs(float(t[col])) for t in converted)
        if abs(diff) <= fx_tol:
            status = "ok_within_fx"
    unit = "Rp billion" if col == "value_idr_bn" else str(lhs["unit"])
    return {
        **key,
        "period": lhs["period"],
        "measure": lhs["measure"] if kind == "periods" else "",
        "identity": kind,
        "equation": f"{lhs_label} = " + " + ".join(t["_label"] for t in terms),
        "lhs": float(lhs[col]),
        "rhs": rhs,
        "difference": diff,
        "rel_difference": diff / rhs if rhs else np.nan,
        "tolerance": tol,
        "unit": unit,
        "status": status,
        "sources": _join([lhs["sources"], *[t["sources"] for t in terms]]),
    }


def _groups(obs: pd.DataFrame, cols: list[str], min_size: int = 2):
    """Yield (key, rows as dicts) for groups of ``obs`` with at least ``min_size`` rows."""
    records = obs.to_dict("records")
    for key, idx in sorted(
        obs.groupby(cols, dropna=False).indices.items(), key=lambda t: str(t[0])
    ):
        if len(idx) >= min_size:
            yield key, [dict(records[i]) for i in idx]


def _measure_identities(obs: pd.DataFrame, rtol: float) -> list[dict[str, object]]:
    out = []
    cols = [c for c in KEY_COLUMNS if c != "measure"]
    for key, rows in _groups(obs, cols, 3):
        by = {r["measure"]: r for r in rows}
        if not {"pma", "pmdn", "total"} <= set(by):
            continue
        if any(math.isnan(by[m]["value_idr_bn"]) for m in ("pma", "pmdn", "total")):
            continue
        for m in by:
            by[m]["_label"] = m.upper()
        out.append(
            _check(
                "pma+pmdn=total",
                dict(zip(cols, key, strict=True)),
                "TOTAL",
                by["total"],
                [by["pma"], by["pmdn"]],
                "value_idr_bn",
                rtol,
            )
        )
    return out


def _time_identities(obs: pd.DataFrame, rtol: float) -> list[dict[str, object]]:
    out = []
    cols = list(SERIES_COLUMNS)
    for key, rows in _groups(obs, cols, 2):
        per = {}
        for r in rows:
            r["_label"] = r["period"]
            per[r["period"]] = r
        col = "value" if all(not math.isnan(r["value"]) for r in per.values()) else "value_idr_bn"
        for k in (2, 3, 4):
            c_k = CUMULATIVE[k - 1]
            if c_k not in per or math.isnan(per[c_k][col]):
                continue
            terms = None
            # Longest available cumulative base plus the quarters after it.
            for j in range(k - 1, -1, -1):
                base = [per.get(CUMULATIVE[j - 1])] if j >= 1 else []
                quarters = [per.get(q) for q in QUARTERS[j:k]]
                if all(t is not None and not math.isnan(t[col]) for t in (*base, *quarters)):
                    terms = [*base, *quarters]
                    break
            if terms is None:
                continue
            out.append(
                _check(
                    "periods", dict(zip(cols, key, strict=True)), c_k, per[c_k], terms, col, rtol
                )
            )
    return out


def _derive(obs: pd.DataFrame) -> tuple[pd.DataFrame, list[dict[str, object]]]:
    """Derive missing quarters and cumulative windows; return new rows and problems."""
    new_rows: list[dict[str, object]] = []
    problems: list[dict[str, object]] = []
    cols = list(SERIES_COLUMNS)
    for key, rows in _groups(obs, cols, 2):
        known: dict[str, dict[str, object]] = {r["period"]: r for r in rows}
        changed = True
        while changed:
            changed = False
            for k in (2, 3, 4):
                q, c_prev, c_k = QUARTERS[k - 1], CUMULATIVE[k - 2], CUMULATIVE[k - 1]
                if c_k in known and c_prev in known and q not in known:
                    made = _combine(known[c_k], known[c_prev], -1, q, f"{c_k} - {c_prev}")
                elif c_prev in known and q in known and c_k not in known:
                    made = _combine(known[c_prev], known[q], +1, c_k, f"{c_prev} + {q}")
                else:
                    continue
                v = made["value"] if not math.isnan(made["value"]) else made["value_idr_bn"]
                tol = (
                    made["half_unit"]
                    if not math.isnan(made["value"])
                    else made["half_unit_idr_bn"]
                )
                if v < -tol:
                    problems.append(
                        {
                            **dict(zip(cols, key, strict=True)),
                            "period": made["period"],
                            "identity": "derived_negative",
                            "equation": f"{made['period']} = {made['derived_from']}",
                            "lhs": v,
                            "rhs": 0.0,
                            "difference": v,
                            "rel_difference": np.nan,
                            "tolerance": tol,
                            "unit": made["unit"],
                            "status": "violation",
                            "sources": made["sources"],
                        }
                    )
                    known[made["period"]] = {**made, "_blocked": True}
                    continue
                known[made["period"]] = made
                new_rows.append({k2: made[k2] for k2 in made if not k2.startswith("_")})
                changed = True
    derived = pd.DataFrame(new_rows)
    if len(derived):
        derived = derived[[c for c in obs.columns if c in derived.columns]]
    return derived, problems


def _combine(a: dict, b: dict, sign: int, period: str, formula: str) -> dict[str, object]:
    if a.get("_blocked") or b.get("_blocked"):
        return {
            **a,
            "value": np.nan,
            "value_idr_bn": np.nan,
            "period": period,
            "derived_from": formula,
            "_blocked": True,
        }
    out = {k: a[k] for k in a}
    out["period"] = period
    for col in ("value", "value_idr_bn"):
        out[col] = float(a[col]) + sign * float(b[col])
    for col in ("half_unit", "half_unit_idr_bn"):
        out[col] = float(a[col]) + float(b[col])
    out["value_published"] = np.nan
    out["unit_published"] = ""
    out["decimals"] = min(int(a["decimals"]), int(b["decimals"]))
    out["projects"] = pd.NA
    out["origin"] = "derived"
    out["derived_from"] = formula
    out["n_sources"] = 0
    out["sources"] = _join([a["sources"], b["sources"]])
    out["published"] = pd.NA
    out["notes"] = ""
    inherited = {
        f
        for f in (str(a["flags"]) + ";" + str(b["flags"])).split(";")
        if f.startswith("fx_") or f in _INHERITED
    }
    out["flags"] = ";".join(sorted({"derived", *inherited}))
    out["conflict_rule"] = ""
    out["lines"] = _join([a["lines"], b["lines"]])
    return out


# --- step 6: censoring -------------------------------------------------------------------


def _censoring(cand: pd.DataFrame, min_list_size: int) -> pd.DataFrame:
    rows = []
    country = cand[(cand["dataset"] == "country") & (cand["concept"] == "realisation")]
    chosen = country[
        country["chosen"]
        & ~country["partner_iso3"].isin(list(AGGREGATE_PARTNERS))
        & ~country["partner_iso3"].str.contains("+", regex=False)
    ]
    for (year, period, source), grp in country.groupby(["year", "period", "source"], sort=True):
        named = grp[
            ~grp["partner_iso3"].isin(list(AGGREGATE_PARTNERS))
            & ~grp["partner_iso3"].str.contains("+", regex=False)
        ]
        unknown = grp[grp["partner_iso3"] == "UNK"]
        n_listed = len(named) + len(unknown)
        if n_listed < min_list_size or named["value"].isna().all():
            continue
        floor = float(named["value"].min())
        unk = float(unknown["value"].max()) if len(unknown) else np.nan
        # An unnamed listed country could be any absent partner: the bound is then its value.
        bound = max(floor, unk) if not math.isnan(unk) else floor
        # A list that omits a partner another source puts above its smallest entry is not a
        # complete top-N list (e.g. an article naming only the runners-up): it bounds nothing.
        same = chosen[
            (chosen["year"] == year)
            & (chosen["period"] == period)
            & ~chosen["partner_iso3"].isin(list(named["partner_iso3"]))
        ]
        above = same[same["value"] > floor + same["half_unit"]]
        rows.append(
            {
                "year": year,
                "period": period,
                "source": source,
                "n_listed": n_listed,
                "listed": " ".join(sorted(named["partner_iso3"])),
                "smallest_listed": floor,
                "unnamed_entry": unk,
                "upper_bound": bound,
                "unit": CANONICAL_UNITS["pma"],
                "complete": above.empty,
                "omits": " ".join(sorted(set(above["partner_iso3"]))),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "year",
            "period",
            "source",
            "n_listed",
            "listed",
            "smallest_listed",
            "unnamed_entry",
            "upper_bound",
            "unit",
            "complete",
            "omits",
        ],
    )


# --- the result object -------------------------------------------------------------------


@dataclass
class Ledger:
    """The validated investment ledger and its diagnostics.

    Attributes
    ----------
    observations
        One row per cell (published, or derived and flagged ``derived``).
    candidates
        Every published row after unit conversion, with ``cell``, ``cluster`` and
        ``chosen``: the full trail from raw line to observation.
    conflicts
        Cells that held different values: every value, its sources and the deciding rule.
    identities
        Every identity check made, with status ``ok``, ``ok_within_fx`` (the gap is within
        the exchange-rate tolerance of converted terms) or ``violation``.
    censoring
        Top-N country lists and the upper bound they put on unlisted partners.
    targets
        Published targets (``FY_target*``), kept apart from realisations.
    settings, hashes
        What produced the ledger: settings and the sha256 of every input file.
    """

    observations: pd.DataFrame
    candidates: pd.DataFrame
    conflicts: pd.DataFrame
    identities: pd.DataFrame
    censoring: pd.DataFrame
    targets: pd.DataFrame
    fx: FxTable
    settings: LedgerSettings
    hashes: dict[str, str] = field(default_factory=dict)
    root: Path | None = None

    @property
    def fingerprint(self) -> str:
        """Short hash of the inputs (files) and settings."""
        return data_fingerprint({**self.hashes, "settings": repr(asdict(self.settings))})

    # -- tables -----------------------------------------------------------------------

    def to_frame(self, *, include_derived: bool = True) -> pd.DataFrame:
        """Return the observations as a long, tidy DataFrame."""
        obs = self.observations
        if not include_derived:
            obs = obs[obs["origin"] == "published"]
        return obs.reset_index(drop=True).copy()

    @property
    def violations(self) -> pd.DataFrame:
        """Identity checks that failed beyond rounding and exchange-rate tolerance."""
        return self.identities[self.identities["status"] == "violation"].reset_index(drop=True)

    @property
    def derived(self) -> pd.DataFrame:
        """Observations derived from others (flagged ``derived``)."""
        return self.observations[self.observations["origin"] == "derived"].reset_index(drop=True)

    def select(self, **where: object) -> pd.DataFrame:
        """Return observations matching every ``column=value`` (a list means any of)."""
        obs = self.observations
        mask = pd.Series(True, index=obs.index)
        for col, val in where.items():
            if col not in obs.columns:
                raise KeyError(f"unknown column {col!r}; columns are {list(obs.columns)}")
            if isinstance(val, list | tuple | set | frozenset):
                mask &= obs[col].isin(list(val))
            else:
                mask &= obs[col] == val
        return obs[mask].reset_index(drop=True)

    def coverage(self, rows: str, cols: str, **where: object) -> pd.DataFrame:
        """Tabulate which periods exist for each (rows, cols) pair.

        Cells list the periods present, a ``*`` marking derived ones; empty means none.
        """
        obs = self.select(**where)
        if obs.empty:
            return pd.DataFrame()
        order = {p: i for i, p in enumerate(["Q1", "Q2", "H1", "Q3", "9M", "Q4", "FY"])}

        def label(grp: pd.DataFrame) -> str:
            # A period counts as published if any series in the group has it published.
            kinds: dict[str, str] = {}
            for p, o in zip(grp["period"], grp["origin"], strict=True):
                kinds[p] = "published" if "published" in (o, kinds.get(p)) else o
            items = sorted(kinds.items(), key=lambda t: (order.get(t[0], 99), t[0]))
            return " ".join(p + ("*" if o == "derived" else "") for p, o in items)

        table = obs.groupby([rows, cols]).apply(label, include_groups=False).unstack(cols)
        return table.fillna("")

    def annual(
        self,
        measure: str,
        sector: str = "all",
        *,
        partner_iso3: str = "WLD",
        region: str = "IDN",
        include_derived: bool = True,
    ) -> pd.DataFrame:
        """Return full-year (FY) observations of one series, one row per year."""
        obs = self.select(
            measure=measure,
            sector=sector,
            partner_iso3=partner_iso3,
            region=region,
            period="FY",
            concept="realisation",
        )
        if not include_derived:
            obs = obs[obs["origin"] == "published"]
        return obs.sort_values("year").reset_index(drop=True)

    def partner_panel(
        self, partners: Sequence[str] | None = None, periods: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """PMA by partner with top-N censoring made explicit.

        Parameters
        ----------
        partners
            ISO3 codes; default every country that appears in any list.
        periods
            Period labels to include (default all).

        Returns
        -------
        pandas.DataFrame
            One row per (year, period, partner): ``value`` where the partner was listed,
            else ``upper_bound`` (the smallest value of the top-N lists it is missing
            from) and ``status`` ``censored``; ``unknown`` where no list covers the period.
            A censored partner is below the bound, not zero.
        """
        obs = self.select(dataset="country", concept="realisation")
        named = obs[
            ~obs["partner_iso3"].isin(list(AGGREGATE_PARTNERS))
            & ~obs["partner_iso3"].str.contains("+", regex=False)
        ]
        if partners is None:
            partners = sorted(named["partner_iso3"].unique())
        slots = obs[["year", "period"]].drop_duplicates()
        if periods is not None:
            slots = slots[slots["period"].isin(list(periods))]
        usable = self.censoring[self.censoring["complete"].astype(bool)]
        bounds = (
            usable.groupby(["year", "period"])["upper_bound"].min()
            if len(usable)
            else pd.Series(dtype=float)
        )
        rows = []
        for year, period in slots.sort_values(["year", "period"]).itertuples(index=False):
            for p in partners:
                hit = named[
                    (named["year"] == year)
                    & (named["period"] == period)
                    & (named["partner_iso3"] == p)
                ]
                bound = bounds.get((year, period), np.nan)
                if len(hit):
                    h = hit.iloc[0]
                    rows.append(
                        {
                            "year": year,
                            "period": period,
                            "partner_iso3": p,
                            "value": h["value"],
                            "upper_bound": np.nan,
                            "status": "observed",
                            "flags": h["flags"],
                            "sources": h["sources"],
                        }
                    )
                else:
                    rows.append(
                        {
                            "year": year,
                            "period": period,
                            "partner_iso3": p,
                            "value": np.nan,
                            "upper_bound": bound,
                            "status": "unknown" if math.isnan(bound) else "censored",
                            "flags": "",
                            "sources": "",
                        }
                    )
        out = pd.DataFrame(
            rows,
            columns=[
                "year",
                "period",
                "partner_iso3",
                "value",
                "upper_bound",
                "status",
                "flags",
                "sources",
            ],
        )
        out["unit"] = CANONICAL_UNITS["pma"]
        return out

    def summary(self) -> Summary:
        """Return counts of cells, conflicts, identity checks and derivations."""
        obs = self.observations
        counts = (
            pd.DataFrame(
                {
                    "published cells": obs[obs["origin"] == "published"].groupby("dataset").size(),
                    "derived cells": obs[obs["origin"] == "derived"].groupby("dataset").size(),
                    "raw rows": self.candidates.groupby("dataset").size(),
                }
            )
            .fillna(0)
            .astype(int)
        )
        ident = (
            self.identities.groupby(["identity", "status"]).size().unstack(fill_value=0)
            if len(self.identities)
            else pd.DataFrame()
        )
        notes = [
            "Conflicts are resolved by the documented rule (analysis.data.ledger); every "
            "conflicting value stays listed in .conflicts.",
            "Unlisted partners in top-N country lists are censored (below the smallest listed "
            "value), never zero: see .partner_panel().",
        ]
        n_fx = int(self.candidates["fx_converted"].sum())
        n_na = int(obs["flags"].str.contains("fx_unavailable").sum())
        notes.append(
            f"{n_fx} raw figures converted between currencies on the "
            f"'{self.settings.fx_basis}' basis; {n_na} observations lack a rate."
        )
        return Summary(
            title="Mitra investment ledger",
            settings={**asdict(self.settings), "fingerprint": self.fingerprint},
            tables=[
                ("Cells by dataset", counts),
                ("Identity checks", ident),
                (
                    "Conflicts by rule",
                    self.conflicts.groupby("rule").size().to_frame("n")
                    if len(self.conflicts)
                    else pd.DataFrame(),
                ),
            ],
            notes=notes,
        )

    def partner_sector(self, sector: str | Sequence[str] | None = None) -> pd.DataFrame:
        """PMA by partner x sector (:func:`analysis.data.sector_pma.load_partner_sector`).

        Parameters
        ----------
        sector
            ``textile``, ``footwear``, ``chemical``, ``pharma``, ``chem_pharma`` (or a list);
            default all. An unknown sector is an error naming the choices.

        Returns
        -------
        pandas.DataFrame
            One row per published statement with ``kind`` (``realised``, ``commitment``,
            ``share_statement``, ``sector_total``): never sum across kinds.
        """
        from analysis.data.sector_pma import PARTNER_SECTORS, load_partner_sector

        table = load_partner_sector(self.root)
        if sector is None:
            return table
        wanted = [sector] if isinstance(sector, str) else list(sector)
        unknown = [s for s in wanted if s not in PARTNER_SECTORS]
        if unknown:
            raise KeyError(
                f"unknown sector {unknown[0]!r}; partner x sector data cover "
                + ", ".join(PARTNER_SECTORS)
            )
        return table[table["sector"].isin(wanted)].reset_index(drop=True)

    def latest_release(self):  # -> analysis.data.releases.Release | None
        """The latest BKPM release in the ledger: year, period, publication date, source.

        See :mod:`analysis.data.releases` (``FY 2025``, published 2026-01-15, for the
        shipped data).
        """
        from analysis.data.releases import latest_release

        return latest_release(self)

    def first_class_sectors(self) -> tuple[str, ...]:
        """Return the sectors Mitra reports on first."""
        return FIRST_CLASS


def build_ledger(
    root: str | Path | None = None,
    settings: LedgerSettings | None = None,
    *,
    imports: Sequence[pd.DataFrame] = (),
    read_imports: bool = True,
) -> Ledger:
    """Build the ledger from the raw files, the releases in the import area and optional
    imported realisation tables.

    Parameters
    ----------
    root
        Data folder (default ``data/``).
    settings
        Unit-conversion, conflict and derivation settings.
    imports
        Candidate frames from :func:`analysis.data.realisation.read_realisation_table`.
    read_imports
        Read the releases added with ``mitra data add-release`` (``<root>/imports/``,
        :mod:`analysis.data.imports`; default True). Their hashes join :attr:`hashes`.

    Returns
    -------
    Ledger

    Raises
    ------
    DataValidationError, ProvenanceError
        On any schema fault or hash mismatch in an input file.

    Examples
    --------
    >>> from analysis.data import build_ledger
    >>> ledger = build_ledger()
    >>> ledger.annual("total").loc[:, ["year", "value", "unit"]]  # doctest: +SKIP
    """
    root = Path(root) if root is not None else paths.DATA
    settings = settings or LedgerSettings()
    smap = load_sector_map(root)
    national, targets = load_year_file(root)
    released: list[pd.DataFrame] = []
    release_hashes: dict[str, str] = {}
    if read_imports:
        from analysis.data.imports import imported_candidates

        released, release_hashes = imported_candidates(root)
    parts = [
        national,
        load_sector_file(root, smap),
        load_country_file(root),
        *released,
        *imports,
    ]
    hashes = {
        rel: verify_file(rel, root=root)
        for rel in (*(f for d in RAW_FILES for f in raw_files(d)), FX_FILE, FX_ADDITIONS_FILE)
    }
    hashes.update(release_hashes)
    for frame in imports:
        hashes.update(frame.attrs.get("hashes", {}))
    fx = load_fx_table(root)
    cand = pd.concat([p for p in parts if len(p)], ignore_index=True)
    cand = _canonicalise(cand, fx, settings)
    # Two passes: the first resolves every cell; then each value of a disputed cell is
    # checked against its neighbours' identities, and the second pass uses that evidence.
    alternatives: list[tuple[tuple, dict]] = []
    first, _, _ = _collapse(cand, settings.fx_rtol, alternatives=alternatives)
    evidence = _identity_evidence(first, alternatives, settings.fx_rtol)
    obs, conflicts, cand = _collapse(cand, settings.fx_rtol, evidence)
    obs, conflicts = _precise_sums(obs, conflicts)
    identities = _measure_identities(obs, settings.fx_rtol) + _time_identities(
        obs, settings.fx_rtol
    )
    if settings.derive:
        derived, problems = _derive(obs)
        identities += problems
        if len(derived):
            obs = pd.concat([obs, derived], ignore_index=True)
    obs = obs.sort_values(list(KEY_COLUMNS), kind="stable").reset_index(drop=True)
    ident_cols = [
        *KEY_COLUMNS,
        "identity",
        "equation",
        "lhs",
        "rhs",
        "difference",
        "rel_difference",
        "tolerance",
        "unit",
        "status",
        "sources",
    ]
    ident = pd.DataFrame(identities, columns=ident_cols)
    targets = _canonicalise(targets, fx, settings) if len(targets) else targets
    return Ledger(
        observations=obs,
        candidates=cand,
        conflicts=conflicts,
        identities=ident,
        censoring=_censoring(cand, settings.min_list_size),
        targets=targets.reset_index(drop=True),
        fx=fx,
        settings=settings,
        hashes=hashes,
        root=root,
    )
