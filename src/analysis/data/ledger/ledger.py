"""The ledger's result object, :class:`Ledger`, and ``build_ledger``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.base import paths
from analysis.base.summary import Summary
from analysis.base.vocab import (
    AGGREGATE_PARTNERS,
    CANONICAL_UNITS,
    KEY_COLUMNS,
)
from analysis.data.imports import imported_candidates
from analysis.data.provenance import data_fingerprint, verify_file
from analysis.data.raw import (
    RAW_FILES,
    load_country_file,
    load_sector_file,
    load_year_file,
    raw_files,
)
from analysis.data.sectors import FIRST_CLASS, load_sector_map
from analysis.data.units import FX_ADDITIONS_FILE, FX_FILE, FxTable, load_fx_table

from .censoring import _censoring
from .conflicts import _collapse
from .identities import (
    _derive,
    _identity_evidence,
    _measure_identities,
    _precise_sums,
    _time_identities,
)
from .settings import LedgerSettings
from .units import _canonicalise

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
        columns = ["year", "period", "partner_iso3", "value", "upper_bound", "status"]
        columns += ["flags", "sources"]
        slots = slots.sort_values(["year", "period"])
        partners = list(partners)
        if not len(slots) or not partners:
            out = pd.DataFrame([], columns=columns)
            out["unit"] = CANONICAL_UNITS["pma"]
            return out
        # Every (year, period) slot x partner, in that order; a listed partner takes its
        # (first) observation, an unlisted one the slot's bound (one merge, no loop).
        grid = pd.DataFrame(
            {
                "year": np.repeat(slots["year"].to_numpy(), len(partners)),
                "period": np.repeat(slots["period"].to_numpy(), len(partners)),
                "partner_iso3": np.tile(np.array(partners, dtype=object), len(slots)),
            }
        )
        keys = ["year", "period", "partner_iso3"]
        first = named.drop_duplicates(keys)[[*keys, "value", "flags", "sources"]]
        m = grid.merge(first, on=keys, how="left", indicator=True)
        hit = (m["_merge"] == "both").to_numpy()
        if len(bounds):
            bound = bounds.reindex(pd.MultiIndex.from_frame(m[["year", "period"]])).to_numpy()
        else:
            bound = np.full(len(m), np.nan)
        bound = bound.astype(float)
        out = pd.DataFrame(
            {
                "year": m["year"].to_numpy(),
                "period": m["period"].to_numpy(dtype=object),
                "partner_iso3": m["partner_iso3"].to_numpy(dtype=object),
                "value": np.where(hit, m["value"].to_numpy(dtype=float), np.nan),
                "upper_bound": np.where(hit, np.nan, bound),
                "status": np.where(
                    hit, "observed", np.where(np.isnan(bound), "unknown", "censored")
                ).astype(object),
                "flags": np.where(hit, m["flags"].to_numpy(dtype=object), "").astype(object),
                "sources": np.where(hit, m["sources"].to_numpy(dtype=object), "").astype(object),
            },
            columns=columns,
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
