"""Steps 4-5 of the ledger: identity checks, their evidence in conflicts, precise sums and
derivations.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.base.vocab import (
    CUMULATIVE,
    KEY_COLUMNS,
    QUARTERS,
)

from .conflicts import _join
from .settings import _EPS, _INHERITED, _WEAK, SERIES_COLUMNS


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
