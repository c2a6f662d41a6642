"""Loaders of the raw published-facts files: validate, then map onto the canonical columns.

Each loader verifies the file's hash against ``data/provenance.csv``, validates every
cell (:mod:`analysis.data.schema`) and returns *candidate* rows: one per published figure,
in the canonical vocabulary, still in the published unit. Collapsing duplicates, resolving
conflicts and converting units happens in :mod:`analysis.data.ledger`.

Column mapping (source -> canonical) sits next to each loader, as the style guide asks.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from analysis.base import paths
from analysis.base.errors import DataValidationError
from analysis.base.vocab import MEASURES, PERIOD_EXPECTED, UNITS, is_partner_code, parse_period
from analysis.data.provenance import verify_file
from analysis.data.schema import Column, read_table
from analysis.data.sectors import SectorMap, load_sector_map

__all__ = [
    "CANDIDATE_COLUMNS",
    "RAW_ADDITIONS",
    "RAW_FILES",
    "load_country_file",
    "load_facts",
    "load_sector_file",
    "load_year_file",
    "note_flags",
    "raw_files",
]

RAW_FILES = {
    "national": "raw/bkpm/investment_by_year.csv",
    "sector": "raw/bkpm/investment_by_sector.csv",
    "country": "raw/bkpm/pma_by_country.csv",
}
# Later compilations with the same schemas (a new version is a new file): each dataset reads
# its original file and these additions, in this order.
RAW_ADDITIONS = {
    "national": ("raw/bkpm/investment_by_year_2025_2026.csv",),
    "sector": ("raw/bkpm/investment_by_sector_2025_2026.csv",),
    "country": ("raw/bkpm/pma_by_country_2025_2026.csv",),
}


def raw_files(dataset: str) -> tuple[str, ...]:
    """Return every raw file of a dataset (``national``, ``sector``, ``country``), in order."""
    return (RAW_FILES[dataset], *RAW_ADDITIONS.get(dataset, ()))


def _read_all(
    root: Path, dataset: str, columns: tuple[Column, ...], key: tuple[str, ...]
) -> list[tuple[str, pd.DataFrame]]:
    return [(rel, _read(root, rel, columns, key)) for rel in raw_files(dataset)]


CANDIDATE_COLUMNS = (
    "dataset",
    "file",
    "line",
    "concept",
    "year",
    "period",
    "measure",
    "sector",
    "region",
    "partner_iso3",
    "value_published",
    "unit_published",
    "decimals",
    "projects",
    "source",
    "published",
    "note",
    "flags",
)

# Flags read from the compilers' notes. Each is a reading of words in the note, so the
# note itself always travels with the figure too.
_NOTE_FLAGS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "prior_period_comparison",
        re.compile(r"prior-(year|quarter) comparison|retrospective", re.I),
    ),
    ("preliminary", re.compile(r"preliminary", re.I)),
    ("superseded", re.compile(r"later revised", re.I)),
    ("revised", re.compile(r"\bREVISED\b")),
    (
        "suspect",
        re.compile(
            r"suspect|with caution|garbled|implausible|ambiguous|inconsistent|likely typo", re.I
        ),
    ),
    ("unit_typo_corrected", re.compile(r"unit typo", re.I)),
    (
        "period_uncertain",
        re.compile(
            r"period inferred|period assumed|period not stated|may be quarterly|\[period"
            r"|possibly H1|may be 9M",
            re.I,
        ),
    ),
    ("approximate", re.compile(r"sekitar|approximate|\brounded\b", re.I)),
    ("conflict_noted", re.compile(r"CONFLICT")),
    ("scope_assumed", re.compile(r"assumed|presumed", re.I)),
    ("mislabelled_in_source", re.compile(r"mislabel", re.I)),
)


def note_flags(note: object) -> tuple[str, ...]:
    """Return the flags that a compiler's note implies (sorted, unique)."""
    if not isinstance(note, str) or not note:
        return ()
    return tuple(sorted({flag for flag, pattern in _NOTE_FLAGS if pattern.search(note)}))


def _period_ok(text: str) -> bool:
    return parse_period(text) is not None


_COMMON = (
    Column("year", "int", bounds=(1960, 2100)),
    Column("period", check=_period_ok, expected=PERIOD_EXPECTED),
    Column("value", "amount"),
    Column("unit", check=lambda s: s in UNITS, expected="one of " + ", ".join(UNITS)),
    Column("source_url"),
    Column("published", "date", nullable=True),
    Column("note", nullable=True),
)


def _read(root: Path, rel: str, columns: tuple[Column, ...], key: tuple[str, ...]) -> pd.DataFrame:
    verify_file(rel, root=root)
    return read_table(root / rel, columns, key=key, label=f"data/{rel}")


def _frame(raw: pd.DataFrame, dataset: str, rel: str, **cols: object) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "dataset": dataset,
            "file": f"data/{rel}",
            "line": raw["_line"].astype(int),
            "year": raw["year"].astype(int),
            "period": raw["period"].astype(str),
            "value_published": raw["value"].astype(float),
            "unit_published": raw["unit"].astype(str),
            "decimals": raw["value_decimals"].astype(int),
            "projects": pd.array([pd.NA] * len(raw), dtype="Int64"),
            "source": raw["source_url"].astype(str),
            "published": raw["published"].astype("string"),
            "note": raw["note"].astype("string"),
            "flags": [note_flags(n) for n in raw["note"].tolist()],
        }
    )
    for name, value in cols.items():
        out[name] = value
    return out[list(CANDIDATE_COLUMNS)]


def _split_targets(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    is_target = raw["period"].str.startswith("FY_target")
    return raw[~is_target], raw[is_target]


def load_year_file(root: str | Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Load national realisation by year and period (``investment_by_year.csv``).

    Returns
    -------
    candidates, targets
        Candidate figures (sector ``all``, partner ``WLD``, region ``IDN``) and the
        rows whose period is ``FY_target*`` (targets are not realisations).

    Notes
    -----
    Source: BKPM / Ministry of Investment releases as reported by Indonesian media; each
    row carries its article URL. Units as published (``Rp trillion``).
    Mapping: ``measure`` -> ``measure``; ``value``/``unit`` -> ``value_published``/
    ``unit_published``; ``source_url`` -> ``source``.
    """
    root = Path(root) if root is not None else paths.DATA
    cands, tgts = [], []
    for rel, raw in _read_all(
        root,
        "national",
        (
            *_COMMON,
            Column("measure", check=lambda s: s in MEASURES, expected="pma, pmdn or total"),
        ),
        key=("year", "period", "measure", "source_url", "value"),
    ):
        realised, targets = _split_targets(raw)
        cands.append(
            _frame(
                realised,
                "national",
                rel,
                concept="realisation",
                measure=realised["measure"],
                sector="all",
                region="IDN",
                partner_iso3="WLD",
            )
        )
        tgts.append(
            _frame(
                targets,
                "national",
                rel,
                concept="target",
                measure=targets["measure"],
                sector="all",
                region="IDN",
                partner_iso3="WLD",
            )
        )
    return pd.concat(cands, ignore_index=True), pd.concat(tgts, ignore_index=True)


def load_sector_file(
    root: str | Path | None = None, sector_map: SectorMap | None = None
) -> pd.DataFrame:
    """Load realisation by sector (``investment_by_sector.csv``).

    Notes
    -----
    Source: BKPM and Kemenperin releases via media; ``sector_published_name`` is mapped
    through ``data/mappings/sector_names.csv`` (an unmapped name is an error);
    ``kind`` -> ``measure``.
    """
    root = Path(root) if root is not None else paths.DATA
    smap = sector_map or load_sector_map(root)
    columns = (
        *_COMMON,
        Column(
            "sector_published_name",
            check=lambda s: smap.lookup(s) is not None,
            expected="a name listed in data/mappings/sector_names.csv "
            "(add a row there for a new spelling)",
        ),
        Column("sector_en", nullable=True),
        Column("kind", check=lambda s: s in MEASURES, expected="pma, pmdn or total"),
        Column("share_pct", "float", nullable=True, bounds=(0, 100)),
    )
    frames = []
    for rel, raw in _read_all(
        root,
        "sector",
        columns,
        key=("year", "period", "sector_published_name", "kind", "source_url", "value"),
    ):
        refs = [smap.lookup(s) for s in raw["sector_published_name"]]
        frames.append(
            _frame(
                raw,
                "sector",
                rel,
                concept=[r.concept for r in refs],
                measure=raw["kind"].astype(str),
                sector=[r.sector for r in refs],
                region=[r.region for r in refs],
                partner_iso3="WLD",
            )
        )
    return pd.concat(frames, ignore_index=True)


def load_country_file(root: str | Path | None = None) -> pd.DataFrame:
    """Load PMA by country of origin (``pma_by_country.csv``).

    Notes
    -----
    Releases list only the top five (sometimes ten) countries: a country absent from a
    list is below the smallest listed value, not zero (see
    :meth:`analysis.data.ledger.Ledger.partner_panel`). ``iso3`` -> ``partner_iso3``.
    """
    root = Path(root) if root is not None else paths.DATA
    columns = (
        *_COMMON,
        Column("country"),
        Column(
            "iso3",
            check=is_partner_code,
            expected="an ISO 3166 alpha-3 code, WLD, OTH, UNK or AAA+BBB",
        ),
        Column("share_pct", "float", nullable=True, bounds=(0, 100)),
    )
    frames = [
        _frame(
            raw,
            "country",
            rel,
            concept="realisation",
            measure="pma",
            sector="all",
            region="IDN",
            partner_iso3=raw["iso3"].astype(str),
        )
        for rel, raw in _read_all(
            root, "country", columns, key=("year", "period", "iso3", "source_url", "value")
        )
    ]
    return pd.concat(frames, ignore_index=True)


def load_facts(name: str, root: str | Path | None = None) -> pd.DataFrame:
    """Load a verified raw file as text (``other_facts``, ``agreements``, ``indicators``...).

    Parameters
    ----------
    name
        Path under ``data/`` (``raw/bkpm/other_facts.csv``).
    """
    root = Path(root) if root is not None else paths.DATA
    verify_file(name, root=root)
    path = root / name
    if not path.is_file():
        raise DataValidationError(f"data/{name}", "file not found")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if "source_url" not in frame.columns:
        raise DataValidationError(
            f"data/{name}",
            "missing column source_url",
            row=1,
            expected="every published fact with its source_url",
        )
    return frame
