"""Steps 2-3 of the ledger: duplicates collapsed and conflicts resolved (clusters, deciding
rules).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from analysis.base.vocab import (
    KEY_COLUMNS,
)

from .settings import _EPS, _WEAK

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
