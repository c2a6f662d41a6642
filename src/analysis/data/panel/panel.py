"""The partner panel: :class:`PartnerPanel`, ``build_panel`` and ``load_panel``."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.base.errors import DataValidationError
from analysis.base.summary import Summary
from analysis.base.vocab import CANDIDATES
from analysis.data.provenance import data_fingerprint, verify_file

from .catalogue import _load_exclusions, load_catalogue
from .conflict import _derive, _resolve
from .mappings import (
    CATALOGUE_FILE,
    CURRENCY_OF,
    DERIVED,
    EXCLUSIONS_FILE,
    FILES,
    FRAME_COLUMNS,
    PanelSettings,
    _root,
)
from .rates import _load_rates
from .readers import (
    _read_atlas_totals,
    _read_compiled,
    _read_fetched,
    _read_sector_trade,
    _read_series_file,
)

# --- the panel -------------------------------------------------------------------------


class PanelError(DataValidationError):
    """A request to the panel names an indicator, economy or year it does not hold."""


@dataclass
class PartnerPanel:
    """Partner economies x years x indicators, each cell with unit, source, vintage, flags.

    Attributes
    ----------
    frame
        Long table, one row per cell: ``iso3, year, indicator, value, unit, source,
        vintage, flags`` (plus ``n_sources`` and ``lines``: the file:line of every input).
    catalogue
        One row per indicator code: ``code, label, definition, unit, source, licence,
        direction``.
    conflicts
        Every value of every cell where sources disagree, the kept one marked, with the
        deciding rule.
    conversions
        Every value converted (national currency -> US$, with rate, basis and source) or
        derived (% of GDP x GDP).
    excluded
        Published rows left out, with the reason (``indicator_exclusions.csv``).
    fingerprint
        Hash of every input (files, mappings, fetched values) and the settings.
    """

    frame: pd.DataFrame
    catalogue: pd.DataFrame
    conflicts: pd.DataFrame
    conversions: pd.DataFrame
    excluded: pd.DataFrame
    fingerprint: str
    settings: PanelSettings = field(default_factory=PanelSettings)
    rates: dict[tuple[str, int], tuple[float, str, str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._codes = set(self.catalogue["code"])
        self._economies = set(self.frame["iso3"])
        self._index = {
            (i, c, int(y)): float(v)
            for i, c, y, v in zip(
                self.frame["indicator"],
                self.frame["iso3"],
                self.frame["year"],
                self.frame["value"],
                strict=True,
            )
        }

    # -- checks --
    def _check_indicator(self, indicator: str) -> None:
        if indicator not in self._codes:
            close = [c for c in sorted(self._codes) if indicator.split("_")[0] in c][:5]
            raise PanelError(
                "partner panel",
                "unknown indicator code",
                column="indicator",
                value=indicator,
                expected=f"a code of data/{CATALOGUE_FILE}"
                + (f" (e.g. {', '.join(close)})" if close else ""),
            )

    def _check_iso3(self, iso3: Iterable[str]) -> list[str]:
        codes = [iso3] if isinstance(iso3, str) else list(iso3)
        for code in codes:
            if code not in self._economies:
                raise PanelError(
                    "partner panel",
                    "unknown economy code",
                    column="iso3",
                    value=code,
                    expected="an ISO 3166 alpha-3 code of an economy in the panel "
                    f"({len(self._economies)} economies)",
                )
        return codes

    @property
    def economies(self) -> list[str]:
        """Economies with at least one value."""
        return sorted(self._economies)

    # -- access --
    def value(self, indicator: str, iso3: str, year: int) -> float:
        """Return one cell's value in the catalogue unit, NaN where nothing is published."""
        self._check_indicator(indicator)
        self._check_iso3(iso3)
        return self._index.get((indicator, iso3, int(year)), math.nan)

    def cell(self, indicator: str, iso3: str, year: int) -> pd.Series | None:
        """Return the full row of one cell (value, unit, source, vintage, flags) or None."""
        self._check_indicator(indicator)
        self._check_iso3(iso3)
        f = self.frame
        hit = f[(f["indicator"] == indicator) & (f["iso3"] == iso3) & (f["year"] == int(year))]
        return None if hit.empty else hit.iloc[0]

    def wide(
        self,
        indicator: str,
        years: Sequence[int] | None = None,
        iso3: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Return one indicator as economies x years (NaN where absent; nothing filled)."""
        self._check_indicator(indicator)
        sub = self.frame[self.frame["indicator"] == indicator]
        out = sub.pivot(index="iso3", columns="year", values="value")
        if iso3 is not None:
            out = out.reindex(self._check_iso3(iso3))
        if years is not None:
            out = out.reindex(columns=[int(y) for y in years])
        out.index.name, out.columns.name = "iso3", "year"
        return out

    def latest(
        self,
        indicator: str,
        iso3: Sequence[str] | str | None = None,
        max_year: int | None = None,
    ) -> pd.DataFrame:
        """Return each economy's latest value up to ``max_year``.

        Returns
        -------
        pandas.DataFrame
            ``iso3, year, value, source, flags``; economies without a value are absent.
        """
        self._check_indicator(indicator)
        sub = self.frame[self.frame["indicator"] == indicator]
        if iso3 is not None:
            sub = sub[sub["iso3"].isin(self._check_iso3(iso3))]
        if max_year is not None:
            sub = sub[sub["year"] <= int(max_year)]
        last = sub.sort_values(["iso3", "year"]).groupby("iso3").tail(1)
        return last[["iso3", "year", "value", "source", "flags"]].reset_index(drop=True)

    def gdp_deflator(self, iso3: str = "IDN", base_year: int = 2015) -> pd.Series:
        """Return the implicit GDP deflator in local currency (base year = 100).

        ``(gdp_usd x rate_t) / (gdp_const_usd x rate_2015)``: WDI's constant series is in
        2015 US$ at the 2015 rate, so this recovers the local-currency deflator. Years
        without an official average rate are left out (nothing is filled).

        Raises
        ------
        PanelError
            For an economy without a known currency or without the base year.
        """
        self._check_iso3(iso3)
        currency = CURRENCY_OF.get(iso3)
        if currency is None:
            raise PanelError(
                "partner panel",
                "no currency known for the deflator",
                column="iso3",
                value=iso3,
                expected=", ".join(sorted(CURRENCY_OF)),
            )
        cur = self.wide("gdp_usd", iso3=[iso3]).loc[iso3]
        const = self.wide("gdp_const_usd", iso3=[iso3]).loc[iso3]

        def rate(y: int) -> float:
            if currency == "USD":
                return 1.0
            r = self.rates.get((currency, int(y)))
            return r[0] if r else math.nan

        r2015 = rate(2015)
        years = sorted(set(cur.dropna().index) & set(const.dropna().index))
        defl = pd.Series(
            {y: cur[y] * rate(y) / (const[y] * r2015) * 100 for y in years}, dtype=float
        ).dropna()
        if int(base_year) not in defl.index:
            raise PanelError(
                "partner panel",
                f"no deflator for base year {base_year}",
                column="base_year",
                value=base_year,
                expected="a year with GDP, constant GDP and a rate: "
                + ", ".join(map(str, defl.index)),
            )
        out = defl / defl[int(base_year)] * 100
        out.index.name = "year"
        out.name = f"gdp_deflator_{iso3}_{base_year}=100"
        return out

    def coverage(
        self,
        indicators: Sequence[str] | None = None,
        iso3: Sequence[str] = CANDIDATES,
        years: Sequence[int] | None = None,
    ) -> pd.DataFrame:
        """Count economies with a value per indicator x year (default: the 40 candidates)."""
        codes = list(indicators) if indicators is not None else list(self.catalogue["code"])
        for c in codes:
            self._check_indicator(c)
        sub = self.frame[self.frame["indicator"].isin(codes) & self.frame["iso3"].isin(iso3)]
        out = sub.groupby(["indicator", "year"])["iso3"].nunique().unstack(fill_value=0)
        out = out.reindex(codes, fill_value=0)
        if years is not None:
            out = out.reindex(columns=[int(y) for y in years], fill_value=0)
        out.columns.name = "year"
        return out.astype(int)

    def to_frame(self) -> pd.DataFrame:
        """Return the long table (``FRAME_COLUMNS``)."""
        return self.frame[list(FRAME_COLUMNS)].copy()

    def summary(self) -> Summary:
        """Return a printable overview: size, coverage of the candidates, conflicts."""
        cov = self.coverage(
            [
                "gdp_usd",
                "gdp_growth_pct",
                "exports_goods_usd",
                "fdi_outflow_usd",
                "ofdi_stock_usd",
            ],
            years=range(2019, 2025),
        )
        n_conf = (
            int(self.conflicts[["iso3", "year", "indicator"]].drop_duplicates().shape[0])
            if len(self.conflicts)
            else 0
        )
        return Summary(
            title="Partner panel",
            settings={
                "cells": len(self.frame),
                "economies": len(self._economies),
                "indicators": int(self.frame["indicator"].nunique()),
                "cells with conflicting sources": n_conf,
                "values converted or derived": len(self.conversions),
                "rows excluded": len(self.excluded),
                "fingerprint": self.fingerprint,
            },
            tables=[("Candidates covered (of 40)", cov)],
            notes=[
                "Money in US$ billion at the year's official average rate; see "
                "conversions for each rate."
            ],
        )


def _hash_frame(frame: pd.DataFrame) -> str:
    data = pd.util.hash_pandas_object(frame.astype(str), index=False).to_numpy().tobytes()
    return hashlib.sha256(data).hexdigest()


def build_panel(
    root: str | Path | None = None,
    *,
    fetched: pd.DataFrame | None = None,
    settings: PanelSettings | None = None,
) -> PartnerPanel:
    """Build the partner panel from the raw files (and optionally fetched values).

    Parameters
    ----------
    root
        Data folder (default ``data/``).
    fetched
        Values fetched by the live loaders: ``iso3, year, indicator, value, unit, source,
        vintage, flags, retrieved, query, sha256``, already in the catalogue unit. They
        enter the conflict rule as official values flagged ``fetched`` and win where
        their vintage is newer than the snapshot's value of the same publisher.
    settings
        :class:`PanelSettings`.

    Raises
    ------
    DataValidationError
        For an unknown indicator code, unit, currency or economy code, a currency without
        a rate for its year, or a duplicate key, naming file, line and column.
    """
    root = _root(root)
    settings = settings or PanelSettings()
    catalogue = load_catalogue(root)
    units = dict(zip(catalogue["code"], catalogue["unit"], strict=True))
    exclusions = _load_exclusions(root)
    rates = _load_rates(root)
    hashes = {rel: verify_file(rel, root=root) for rel in FILES.values()}
    frames = [
        _read_series_file(root, "wdi_macro", units),
        _read_series_file(root, "imf_weo", units),
        _read_series_file(root, "wdi_fdi", units),
        _read_sector_trade(root, units),
        _read_atlas_totals(root, units),
    ]
    compiled, conversions, excluded = _read_compiled(root, units, rates, exclusions)
    frames.append(compiled)
    if fetched is not None:
        frames.append(_read_fetched(fetched, units))
        hashes["fetched"] = _hash_frame(fetched)
    for name in (CATALOGUE_FILE, EXCLUSIONS_FILE):
        hashes[name] = hashlib.sha256((root / name).read_bytes()).hexdigest()
    hashes["settings"] = repr(settings)
    cand = pd.concat(frames, ignore_index=True)
    cand["order"] = np.arange(len(cand))
    cand["vintage"] = cand["vintage"].fillna("").astype(str)
    cand["flags"] = cand["flags"].fillna("").astype(str)
    is_derived_code = cand["indicator"].isin(DERIVED)
    base, conf1 = _resolve(cand[~is_derived_code], settings.agree_rtol)
    derived, derived_conv = _derive(base, units)
    second = pd.concat([cand[is_derived_code], derived], ignore_index=True)
    second["order"] = np.arange(len(second))
    fdi, conf2 = _resolve(second, settings.agree_rtol)
    frame = pd.concat([base, fdi], ignore_index=True)
    frame = frame.sort_values(["indicator", "iso3", "year"], ignore_index=True)
    frame["year"] = frame["year"].astype(int)
    frame["value"] = frame["value"].astype(float)
    frame["n_sources"] = frame["n_sources"].astype(int)
    conflicts = (
        pd.concat([c for c in (conf1, conf2) if len(c)], ignore_index=True)
        if len(conf1) or len(conf2)
        else pd.DataFrame(
            columns=[
                "iso3",
                "year",
                "indicator",
                "value",
                "unit",
                "sources",
                "vintage",
                "n_sources",
                "kept",
                "rule",
                "flags",
                "lines",
            ]
        )
    )
    conv = pd.concat([c for c in (conversions, derived_conv) if len(c)], ignore_index=True)
    if len(conv):
        # Whether the converted or derived value is the one the cell kept (else it is one
        # of the values listed in conflicts).
        kept = dict(
            zip(
                zip(frame["iso3"], frame["year"], frame["indicator"], strict=True),
                frame["lines"],
                strict=True,
            )
        )
        conv["kept"] = [
            set(str(line).split("; ")) <= set(str(kept.get((i, int(y), c), "")).split("; "))
            for i, y, c, line in zip(
                conv["iso3"], conv["year"], conv["indicator"], conv["line"], strict=True
            )
        ]
    return PartnerPanel(
        frame=frame,
        catalogue=catalogue,
        conflicts=conflicts,
        conversions=conv,
        excluded=excluded,
        fingerprint=data_fingerprint(hashes),
        settings=settings,
        rates=rates.table,
    )


def fetched_values() -> pd.DataFrame | None:
    """Return the values ``mitra data fetch`` left in the fetch cache, or None if none.

    :func:`load_panel` passes them to :func:`build_panel`: they enter the conflict rule
    flagged ``fetched`` and win where their vintage is newer. ``MITRA_FETCH_CACHE=off``
    ignores the cache.
    """
    from analysis.data.loaders import fetched_frame

    frame = fetched_frame()
    return frame if len(frame) else None


@cache
def _cached(root: str, stamp: tuple) -> PartnerPanel:
    from analysis.base.cache import cached, folder_fingerprint

    # On disk too, keyed by the data files' bytes and the fetched values: every report of a
    # batch runs in its own kernel and would otherwise rebuild the panel (2-4 s).
    fetched = fetched_values()
    material = {
        "root": root,
        "data": folder_fingerprint(root),
        "fetched": None if fetched is None else str(pd.util.hash_pandas_object(fetched).sum()),
    }
    return cached("panel", material, lambda: build_panel(root, fetched=fetched))


def load_panel(
    root: str | Path | None = None,
    *,
    fetched: pd.DataFrame | None = None,
    settings: PanelSettings | None = None,
) -> PartnerPanel:
    """Return the partner panel (cached per data folder while its files are unchanged).

    Without ``fetched``, the values in the fetch cache (``mitra data fetch``; see
    :func:`fetched_values`) are used, so the panel prefers them where they are newer.
    See :func:`build_panel`; a call with ``fetched`` values or settings is never cached.
    """
    root = _root(root)
    if fetched is not None or settings is not None:
        fetched = fetched if fetched is not None else fetched_values()
        return build_panel(root, fetched=fetched, settings=settings)
    files = [*FILES.values(), CATALOGUE_FILE, EXCLUSIONS_FILE, "provenance.csv"]
    stamp = tuple((f, (root / f).stat().st_mtime_ns if (root / f).exists() else 0) for f in files)
    from analysis.data.loaders import FetchCache  # a new `mitra data fetch` changes the panel

    fetch = FetchCache().provenance_path
    stamp += ((str(fetch), fetch.stat().st_mtime_ns if fetch.exists() else 0),)
    return _cached(str(root.resolve()), stamp)
