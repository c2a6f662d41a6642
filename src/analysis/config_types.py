"""The value types of :mod:`analysis.config`: validators, constrained numbers and codes, the
nested scenario and gravity shapes (moved from ``config.py`` so it stays one job: the
declaration and its loading). Imported back into :mod:`analysis.config`, where they are used.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
)
from typing_extensions import TypedDict

from analysis.base import paths
from analysis.base.i18n import count
from analysis.base.vocab import (
    CANDIDATES,
    GRAVITY_TERMS,
    RANKING_INDICATORS,
    RANKING_PILLARS,
    SECTOR_FOCUS,
    is_partner_code,
)

# --- value types -----------------------------------------------------------------------------


def _partner(code: str) -> str:
    if not is_partner_code(code):
        raise ValueError(f"unknown partner code {code!r}; expected ISO 3166 alpha-3")
    return code


def _run_name(name: str) -> str:
    try:
        return paths.safe_name(name, "run name")
    except paths.UnsafeNameError as exc:
        raise ValueError(f"unsafe {exc}") from None


def _rule_sector(code: str) -> str:
    # Late import: the sector map is data (data/mappings/sectors.csv), read on first use.
    from analysis.data.sectors import load_sector_map

    if code == "all" or code in SECTOR_FOCUS or code in load_sector_map().codes:
        return code
    raise ValueError(
        f"unknown sector {code!r}; expected all, a report sector ({', '.join(SECTOR_FOCUS)}) "
        "or a ledger sector code from data/mappings/sectors.csv"
    )


def _country(code: str) -> str:
    if not (len(code) == 3 and code.isalpha() and code.isupper() and is_partner_code(code)):
        raise ValueError(f"expected one ISO 3166 alpha-3 country code such as DEU (got {code!r})")
    return check_partner(code)


def check_partner(code: str) -> str:
    """Return ``code`` if a brief can be written about it: a candidate partner, never Indonesia.

    A brief ranks the partner among the candidates and reads its row of the partner panel,
    so an economy outside :data:`analysis.base.vocab.CANDIDATES` has nothing to show.
    """
    if code == "IDN":
        raise ValueError("IDN is Indonesia, the host economy; a brief is about a partner")
    if code not in CANDIDATES:
        raise ValueError(
            f"{code} is not a candidate partner (the ranking and the partner panel cover "
            f"only these): {', '.join(CANDIDATES)}"
        )
    return code


def _mapping_rows(file: str) -> list[dict[str, str]]:
    """Rows of a ``data/mappings`` file (read on use: it is data, not configuration)."""
    import csv

    path = paths.MAPPINGS / file
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))
    except OSError as exc:
        raise ValueError(f"cannot read data/mappings/{file} ({exc.strerror or exc})") from None


def _priors(value: dict[str, str]) -> dict[str, str]:
    term_of = {r["prior_id"]: r["term"] for r in _mapping_rows("gravity_priors.csv")}
    for term, pid in value.items():
        if pid not in term_of:
            raise ValueError(
                f"{term}: unknown prior id {pid!r}; gravity_priors.csv has {list(term_of)}"
            )
        if term_of[pid] != term:
            raise ValueError(f"{term}: prior {pid!r} is for term {term_of[pid]!r}")
    return value


def _hubs(value: list[str]) -> list[str]:
    ids = {r["iso3"] for r in _mapping_rows("fdi_hubs.csv")}
    bad = [h for h in value if h not in ids]
    if bad:
        raise ValueError(
            f"{count(len(bad), 'hubs_named', names=', '.join(bad))} not in "
            "data/mappings/fdi_hubs.csv (each hub needs a source)"
        )
    return value


_DEFAULT_HUBS = ("NLD", "GBR", "IRL", "SGP", "CHE", "LUX", "HKG", "VGB", "BMU", "CYM", "MUS")

Finite = Annotated[float, Field(allow_inf_nan=False)]
PartnerCode = Annotated[str, AfterValidator(_partner)]
ScenarioYear = Annotated[int, Field(ge=2000, le=2060)]
GrowthPct = Annotated[float, Field(gt=-100, le=1000, allow_inf_nan=False)]
RuleSector = Annotated[str, AfterValidator(_rule_sector)]
GravityTerm = Literal[GRAVITY_TERMS]  # type: ignore[valid-type]
WeightKey = Literal[(*RANKING_PILLARS, *RANKING_INDICATORS)]  # type: ignore[valid-type]
Weight = Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)]


class _Strict(BaseModel):
    # strict: a YAML "2015" (text) or "yes" (bool) is not an int; extra="forbid": a typo in a
    # key is an error, not a silently ignored value.
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


# Nested values are TypedDicts: validated as strictly as the model (extra="forbid"), they
# stay plain dicts, exactly as the params file wrote them, for the models that read them.
_NESTED = ConfigDict(strict=True, extra="forbid")


class AssumedCoefficient(TypedDict):
    """A literature coefficient for one gravity term, with where it comes from."""

    __pydantic_config__ = _NESTED  # type: ignore[misc]
    value: Finite
    citation: Annotated[str, Field(min_length=5)]


def _ordered(rule: dict[str, Any]) -> dict[str, Any]:
    if rule["from"] > rule["to"]:
        raise ValueError(f"'from' {rule['from']} is after 'to' {rule['to']}")
    return rule


_Uplift = TypedDict(
    "_Uplift", {"sector": RuleSector, "from": ScenarioYear, "to": ScenarioYear, "pct": GrowthPct}
)
_Uplift.__pydantic_config__ = _NESTED  # type: ignore[attr-defined]
#: Extra growth of a sector's investment, percentage points per year over a span.
Uplift = Annotated[_Uplift, AfterValidator(_ordered)]


#: A one-year level change of a sector's investment.
class Shock(TypedDict):
    sector: RuleSector
    year: ScenarioYear
    pct: GrowthPct


Shock.__pydantic_config__ = _NESTED  # type: ignore[attr-defined]

#: Extra PMA growth from a group of partners from a year on.
AgreementRule = TypedDict(
    "AgreementRule",
    {
        "partners": Annotated[list[PartnerCode], Field(min_length=1)],
        "from": ScenarioYear,
        "pma_growth_pct": GrowthPct,
    },
)
AgreementRule.__pydantic_config__ = _NESTED  # type: ignore[attr-defined]


class ScenarioConfig(TypedDict, total=False):
    """A policy scenario (rules in :mod:`analysis.models.scenarios`); every key optional."""

    __pydantic_config__ = _NESTED  # type: ignore[misc]
    name: Annotated[str, Field(min_length=1)]
    description: str
    uplifts: list[Uplift]
    shocks: list[Shock]
    agreements: list[AgreementRule]


def _weights_not_all_zero(weights: dict[str, float]) -> dict[str, float]:
    if weights and not any(w > 0 for w in weights.values()):
        raise ValueError("all weights are zero; give at least one a positive weight")
    return weights
