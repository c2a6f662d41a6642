"""The gravity study's settings: constants, :class:`GravityStudySettings` and
``settings(params)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from analysis.base.errors import MitraError
from analysis.base.i18n import count
from analysis.base.vocab import DEFAULT_SEED, GRAVITY_TERMS, REPORT_SECTORS

REPORT = "20-gravity"
TERMS = GRAVITY_TERMS
SECTORS = REPORT_SECTORS
#: Partner-panel export series behind each report sector's supply component.
SECTOR_EXPORTS = {
    "textile": "exports_textiles_usd",
    "chemical": "exports_chemicals_usd",
    "pharma": "exports_pharma_usd",
}
#: Ledger sectors whose PMA share of the total is the demand component (BKPM publishes
#: chemicals and pharmaceuticals together, so both report sectors share it).
SECTOR_DEMAND = {
    "textile": ("textile_apparel", "textile"),
    "chemical": ("chem_pharma", "chemical"),
    "pharma": ("chem_pharma", "health_pharma"),
}
COUNTERFACTUAL_AGREEMENTS = ("IEU-CEPA", "ICA-CEPA")
#: Pending agreements whose effect :func:`agreement_effects` reports: key -> a text that
#: identifies the agreement's name in the agreements data (the EAEU and Peru agreements
#: signed in 2025 come with the agreements corrections file; absent, they are noted).
PENDING_AGREEMENTS = {
    "IEU-CEPA": "(IEU-CEPA)",
    "ICA-CEPA": "(ICA-CEPA)",
    "EAEU FTA": "EAEU",
    "Peru CEPA": "Indonesia-Peru",
}
#: BKPM list periods the gravity frame can use, as the quarters each covers. Two lists of one
#: year can both enter the likelihood only if their quarters are disjoint (a full-year list
#: and its own quarters, or H1 and Q1, are not independent observations).
PERIOD_QUARTERS: dict[str, frozenset[int]] = {
    "Q1": frozenset({1}),
    "Q2": frozenset({2}),
    "Q3": frozenset({3}),
    "Q4": frozenset({4}),
    "H1": frozenset({1, 2}),
    "9M": frozenset({1, 2, 3}),
    "FY": frozenset({1, 2, 3, 4}),
}
#: The date (month-day) at which a list's agreements in force are read: mid-period.
PERIOD_MIDPOINT = {
    "Q1": "02-15",
    "Q2": "05-15",
    "Q3": "08-15",
    "Q4": "11-15",
    "H1": "04-01",
    "9M": "05-15",
    "FY": "07-01",
}
PRIORS_FILE = "mappings/gravity_priors.csv"
HUBS_FILE = "mappings/fdi_hubs.csv"
MODEL_LABEL = "Interval-censored Gamma gravity regression (log-linear mean), Indonesia as host"


class GravityStudyError(MitraError, ValueError):
    """The gravity study cannot run as configured (names the parameter or file)."""


@dataclass(frozen=True)
class GravityStudySettings:
    """What the gravity study needs (plain values; built from params by the notebook)."""

    sector: str = "textile"
    partners: tuple[str, ...] = field(default_factory=lambda: _default("partners"))
    terms: tuple[str, ...] = TERMS
    # The declared defaults (analysis.config.Params), never re-declared here.
    priors: tuple[tuple[str, str], ...] = field(default_factory=lambda: _default("priors"))
    fixed: tuple[tuple[str, float, str], ...] = ()
    hubs: tuple[str, ...] = field(default_factory=lambda: _default("hubs"))
    draws: int = field(default_factory=lambda: _default("draws"))
    seed: int = DEFAULT_SEED
    alpha: float = 0.05
    #: Simulated top-N samples per scenario of the distribution check (0: comparison only).
    distribution_reps: int = field(default_factory=lambda: _default("distribution_reps"))

    def __post_init__(self) -> None:
        if self.sector not in SECTORS:
            raise GravityStudyError(f"sector must be one of {SECTORS} (got {self.sector!r})")
        bad = [t for t in self.terms if t not in TERMS]
        if bad:
            raise GravityStudyError(
                f"unknown gravity {count(len(bad), 'terms_named', names=bad)}; terms are {TERMS}"
            )
        if not 100 <= int(self.draws) <= 200_000:
            raise GravityStudyError(f"gravity_draws must be 100-200000 (got {self.draws!r})")
        if not 0 < self.alpha < 0.5:
            raise GravityStudyError(f"alpha must be in (0, 0.5) (got {self.alpha!r})")


def settings(params) -> GravityStudySettings:
    """The study's settings from the params' ``gravity`` group (the one place it is read).

    ``priors: {}`` means no priors at all; ``assumed`` fixes terms at cited values.
    """
    g = params.gravity
    return GravityStudySettings(
        sector=g.sector,
        partners=tuple(g.partners),
        priors=tuple(sorted((str(t), str(i)) for t, i in g.priors.items())),
        fixed=tuple(
            sorted((str(t), float(a["value"]), str(a["citation"])) for t, a in g.assumed.items())
        ),
        hubs=tuple(g.hubs),
        draws=int(g.draws),
        seed=int(g.seed),
        distribution_reps=int(g.distribution_reps),
    )


def _default(name: str) -> object:
    from analysis.config import Params

    value = Params().gravity[name]
    if name == "priors":
        return tuple(sorted((str(t), str(i)) for t, i in value.items()))  # type: ignore[union-attr]
    return tuple(value) if isinstance(value, list) else value


#: Columns of the potential table that the summary shows (the CSV keeps all).
SUMMARY_POTENTIAL_COLUMNS = [
    "partner_iso3", "year", "actual", "actual_upper", "predicted", "lo", "hi",
    "partner_ofdi_total", "capped",
]  # fmt: skip

#: Headings of the report's sections that the key findings link to (notebook headings).
SECTIONS = {
    "coefficients": "What the data identify, and what comes from a prior",
    "potential": "Potential against actual, latest year",
    "agreements": "IEU-CEPA and the Indonesia-Canada CEPA in force",
}
