"""Investment targets as data: every year the sources give, conflicting versions kept.

Sources (all verified against ``data/provenance.csv``):

- the ``FY_target`` rows of ``raw/bkpm/investment_by_year.csv`` and
  ``raw/bkpm/investment_by_year_2025_2026.csv``: annual national targets 2015-2029
  (``FY_target_rpjmn`` is the medium-term plan's figure for the year, kind ``annual_rpjmn``);
- the ``target`` rows of ``raw/bkpm/other_facts_2025_2026.csv`` printed in ``Rp trillion``:
  the annual targets restated, and the 2025-2029 medium-term (RPJMN) cumulative total
  (kind ``medium_term_total``, ``year_first`` 2025, ``year`` 2029). Sector growth and GDP-share
  targets (percent) stay in ``other_facts``: they are not investment amounts.

Every version is a row. Where one (measure, kind, year_first, year) has several values,
``preferred`` marks one by this rule (``rule`` says which step decided):

1. ``not_superseded``: a value whose note calls it earlier, original (before a revision),
   superseded or suspect loses;
2. ``latest_publication``: the value published last wins (a precisely dated one beats an
   undated one; a revised target replaces the earlier one);
3. ``more_sources``: otherwise the value printed by more sources (values equal up to half a
   unit of the coarser print agree);
4. ``file_order``: otherwise the first in file order.

So 2026 is Rp 2,175.2 tn (2026-02-03; the earlier 2,026 projection of 2024-11-30 is kept
as a row), 2027 is Rp 2,567 tn (2,576.47 undated), and the 2025-2029 total is Rp 13,032.8 tn
(2025-07-21; 13,528 of 2024-12-12 and the undated 13,446 kept). Values are in ``Rp
trillion`` as published, with ``value_idr_bn`` in the ledger's unit (Rp billion).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from analysis.base import paths
from analysis.base.errors import DataValidationError
from analysis.data.provenance import verify_file
from analysis.data.raw import load_year_file, note_flags
from analysis.data.schema import Column, decimals_of, read_table

__all__ = ["FACTS_FILE", "TARGET_COLUMNS", "TARGET_KINDS", "load_targets"]

FACTS_FILE = "raw/bkpm/other_facts_2025_2026.csv"
TARGET_KINDS = ("annual", "annual_rpjmn", "medium_term_total")
TARGET_COLUMNS = (
    "year",
    "year_first",
    "measure",
    "kind",
    "value",
    "unit",
    "value_idr_bn",
    "decimals",
    "preferred",
    "rule",
    "label",
    "source",
    "published",
    "note",
    "flags",
    "file",
    "line",
)

_YEARS = re.compile(r"^(\d{4})(?:-(\d{4}))?$")
_PUBLISHED = re.compile(r"published (\d{4}-\d{2}(?:-\d{2})?)")
_EARLIER = re.compile(r"EARLIER|superseded|\boriginal\b|later revised", re.I)
_WEAK = {"superseded", "suspect"}


def _from_year_files(root: Path) -> pd.DataFrame:
    _, targets = load_year_file(root)
    if targets.empty:
        return pd.DataFrame(columns=list(TARGET_COLUMNS))
    if not (targets["unit_published"] == "Rp trillion").all():
        bad = targets[targets["unit_published"] != "Rp trillion"].iloc[0]
        raise DataValidationError(
            bad["file"],
            "a target not in Rp trillion",
            row=int(bad["line"]),
            column="unit",
            value=bad["unit_published"],
            expected="Rp trillion",
        )
    return pd.DataFrame(
        {
            "year": targets["year"].astype(int),
            "year_first": targets["year"].astype(int),
            "measure": targets["measure"].astype(str),
            "kind": [
                "annual_rpjmn" if p.endswith("_rpjmn") else "annual" for p in targets["period"]
            ],
            "value": targets["value_published"].astype(float),
            "unit": "Rp trillion",
            "decimals": targets["decimals"].astype(int),
            "label": targets["period"].astype(str),
            "source": targets["source"].astype(str),
            "published": targets["published"].fillna("").astype(str),
            "note": targets["note"].fillna("").astype(str),
            "file": targets["file"].astype(str),
            "line": targets["line"].astype(int),
        }
    )


def _from_facts(root: Path) -> pd.DataFrame:
    verify_file(FACTS_FILE, root=root)
    label = f"data/{FACTS_FILE}"
    raw = read_table(
        root / FACTS_FILE,
        (
            Column("topic"),
            Column("fact"),
            Column("value", nullable=True),
            Column("unit", nullable=True),
            Column("year", nullable=True),
            Column("source_url"),
            Column("note", nullable=True),
        ),
        label=label,
    )
    sel = raw[(raw["topic"] == "target") & (raw["unit"] == "Rp trillion")]
    rows = []
    for rec in sel.to_dict("records"):
        line = int(rec["_line"])
        text = str(rec["value"]).strip()
        if not re.fullmatch(r"\d+(\.\d+)?", text):
            raise DataValidationError(
                label,
                "non-numeric target",
                row=line,
                column="value",
                value=text,
                expected="a plain number in Rp trillion",
            )
        m = _YEARS.match(str(rec["year"] or ""))
        if not m:
            raise DataValidationError(
                label,
                "malformed year",
                row=line,
                column="year",
                value=rec["year"],
                expected="YYYY or YYYY-YYYY",
            )
        first, last = int(m.group(1)), int(m.group(2) or m.group(1))
        if first > last:
            raise DataValidationError(
                label,
                "year range backwards",
                row=line,
                column="year",
                value=rec["year"],
                expected="YYYY-YYYY with the first year first",
            )
        note = "" if pd.isna(rec["note"]) else str(rec["note"])
        pub = _PUBLISHED.search(note)
        rows.append(
            {
                "year": last,
                "year_first": first,
                "measure": "total",
                "kind": "medium_term_total" if first != last else "annual",
                "value": float(text),
                "unit": "Rp trillion",
                "decimals": decimals_of(text),
                "label": str(rec["fact"]),
                "source": str(rec["source_url"]),
                "published": pub.group(1) if pub else "",
                "note": note,
                "file": label,
                "line": line,
            }
        )
    return pd.DataFrame(rows)


def _date_rank(text: str) -> tuple[int, str]:
    # Later and more precise first: full dates, then months, then undated.
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return (2, text)
    if re.fullmatch(r"\d{4}-\d{2}", text):
        return (1, text + "-00")
    return (0, "")


def _choose(rows: pd.DataFrame) -> tuple[int, str]:
    """Return (index of the preferred row, deciding rule)."""
    if len(rows) == 1:
        return rows.index[0], "only_value"
    value = rows["value"].astype(float)
    half = 0.5 * 10.0 ** (-rows["decimals"].astype(float))

    def agree(i: int, among: pd.Index) -> int:
        tol = half.loc[among].clip(lower=half.at[i]) + 1e-9
        return int(((value.loc[among] - value.at[i]).abs() <= tol).sum())

    def most_precise(among: pd.Index) -> int:
        return max(among, key=lambda i: (rows.at[i, "decimals"], -list(rows.index).index(i)))

    if all(agree(i, rows.index) == len(rows) for i in rows.index):
        return most_precise(rows.index), "agreeing_prints"
    weak = rows["flags"].map(lambda f: bool(_WEAK & set(f.split(";"))))
    pool, rule = rows.index, ""
    if 0 < int((~weak).sum()) < len(rows):
        pool, rule = rows.index[~weak.to_numpy()], "not_superseded"
        if all(agree(i, pool) == len(pool) for i in pool):
            return most_precise(pool), rule
    ranks = rows.loc[pool, "published"].map(_date_rank)
    latest = pool[(ranks == ranks.max()).to_numpy()]
    if len(latest) < len(pool):
        if all(agree(i, latest) == len(latest) for i in latest):
            return most_precise(latest), rule or "latest_publication"
        pool = latest
    counts = {i: agree(i, rows.index) for i in pool}
    top = max(counts.values())
    best = [i for i in pool if counts[i] == top]
    if len(best) < len(pool):
        return best[0], rule or "more_sources"
    return pool[0], rule or "file_order"


def load_targets(root: str | Path | None = None) -> pd.DataFrame:
    """Load every published investment target (rows :data:`TARGET_COLUMNS`).

    Returns
    -------
    pandas.DataFrame
        One row per published version: ``year`` (last year of the target's window),
        ``year_first``, ``measure`` (``total``, ``pma``, ``pmdn``), ``kind`` (one of
        :data:`TARGET_KINDS`), ``value`` and ``unit`` as published (``Rp trillion``),
        ``value_idr_bn``, ``preferred`` and the deciding ``rule``, ``label``, ``source``,
        ``published``, ``note``, ``flags``, ``file``, ``line``.

    Examples
    --------
    >>> t = load_targets()
    >>> t.query("preferred and kind == 'annual' and year == 2026")["value"].item()
    ... # doctest: +SKIP
    2175.2
    """
    root = Path(root) if root is not None else paths.DATA
    frame = pd.concat([_from_year_files(root), _from_facts(root)], ignore_index=True)
    flags = []
    for note in frame["note"]:
        f = set(note_flags(note))
        if _EARLIER.search(note):
            f.add("superseded")
        flags.append(";".join(sorted(f)))
    frame["flags"] = flags
    frame["value_idr_bn"] = frame["value"] * 1000.0
    frame["preferred"] = False
    frame["rule"] = ""
    for _, grp in frame.groupby(["measure", "kind", "year_first", "year"], sort=True):
        best, rule = _choose(grp)
        frame.loc[grp.index, "rule"] = rule
        frame.loc[best, "preferred"] = True
    frame = frame.sort_values(["kind", "measure", "year", "file", "line"], kind="stable")
    return frame[list(TARGET_COLUMNS)].reset_index(drop=True)
