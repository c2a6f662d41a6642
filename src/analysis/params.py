"""Parameter sets: layered YAML files validated into one frozen object before any kernel runs.

Files layer in order, later wins (``params/base.yaml`` then ``params/textile.yaml``). Every
key is declared once in :data:`SPECS` with its type, allowed values and help; an unknown key,
a wrong type, an out-of-range year, an unknown sector or partner code, or an unsafe run name
is an error naming the file and the key. Notebooks declare the same keys in their tagged
``parameters`` cell; :func:`notebook_parameters` reads that cell through
``papermill.inspect_notebook`` and each notebook receives only the keys it declares.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import yaml

from analysis import paths
from analysis.errors import MitraError
from analysis.vocab import GRAVITY_TERMS, RANKING_INDICATORS, RANKING_PILLARS, is_partner_code

__all__ = [
    "SECTOR_FOCUS",
    "SPECS",
    "Params",
    "ParamsError",
    "load_params",
    "notebook_parameters",
    "params_from",
    "validate_params",
]

#: Which ledger sectors each report sector draws on. BKPM publishes chemicals and
#: pharmaceuticals as one sector, so both the chemical and the pharma reports use it.
SECTOR_FOCUS: dict[str, tuple[str, ...]] = {
    "textile": (
        "textile",
        "apparel",
        "leather_footwear",
        "textile_apparel",
        "textile_apparel_footwear",
    ),
    "chemical": ("chem_pharma", "chemical"),
    "pharma": ("chem_pharma", "health_pharma"),
}

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class ParamsError(MitraError, ValueError):
    """A parameter file or value is invalid; the message names the file and the key."""

    def __init__(self, source: str, key: str | None, problem: str) -> None:
        self.source = source
        self.key = key
        where = f"{source}: key '{key}'" if key else source
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Spec:
    """Declaration of one parameter."""

    type: type | tuple[type, ...]
    default: object
    help: str
    check: Callable[[object], str | None] | None = None  # returns a problem or None


def _one_of(*allowed: str) -> Callable[[object], str | None]:
    def check(v: object) -> str | None:
        return None if v in allowed else f"must be one of {', '.join(allowed)} (got {v!r})"

    return check


def _year(v: object) -> str | None:
    return None if 2000 <= int(v) <= 2050 else f"year out of range 2000-2050 (got {v!r})"


def _run_name(v: object) -> str | None:
    text = str(v)
    if "/" in text or "\\" in text or ".." in text or not _SAFE_NAME.match(text):
        return (
            f"unsafe run name {text!r}: use letters, digits, '-', '_' or '.', start with a "
            "letter or digit, no path separators or '..', at most 64 characters"
        )
    return None


def _partners(v: object) -> str | None:
    bad = [p for p in v if not isinstance(p, str) or not is_partner_code(p)]
    return f"unknown partner code(s) {bad}; expected ISO 3166 alpha-3" if bad else None


def _partner(v: object) -> str | None:
    ok = isinstance(v, str) and len(v) == 3 and v.isupper() and is_partner_code(v)
    return None if ok else f"expected one ISO 3166 alpha-3 country code such as DEU (got {v!r})"


def _horizon(v: object) -> str | None:
    return None if 2020 <= int(v) <= 2050 else f"horizon out of range 2020-2050 (got {v!r})"


def _scenario(v: object) -> str | None:
    from analysis.scenarios import scenario_problem  # late: scenarios imports this module

    return scenario_problem(v)


def _assumed(v: object) -> str | None:
    for term, spec in dict(v).items():  # type: ignore[call-overload]
        if term not in GRAVITY_TERMS:
            return f"unknown gravity term {term!r}; terms are {', '.join(GRAVITY_TERMS)}"
        if not isinstance(spec, Mapping) or set(spec) != {"value", "citation"}:
            return f"{term}: expected a mapping with exactly 'value' and 'citation'"
        if isinstance(spec["value"], bool) or not isinstance(spec["value"], int | float):
            return f"{term}.value: expected a number, got {spec['value']!r}"
        if not isinstance(spec["citation"], str) or len(spec["citation"].strip()) < 5:
            return f"{term}.citation: say where the value comes from"
    return None


# -- gravity (report 20): priors and hubs name rows of data/mappings files ----------------


def _mapping_rows(file: str) -> list[dict[str, str]]:
    import csv

    with (paths.DATA / "mappings" / file).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _gravity_priors(v: object) -> str | None:
    term_of = {r["prior_id"]: r["term"] for r in _mapping_rows("gravity_priors.csv")}
    for term, pid in dict(v).items():  # type: ignore[call-overload]
        if term not in GRAVITY_TERMS:
            return f"unknown gravity term {term!r}; terms are {', '.join(GRAVITY_TERMS)}"
        if pid not in term_of:
            return f"{term}: unknown prior id {pid!r}; gravity_priors.csv has {list(term_of)}"
        if term_of[pid] != term:
            return f"{term}: prior {pid!r} is for term {term_of[pid]!r}"
    return None


def _gravity_hubs(v: object) -> str | None:
    ids = [r["iso3"] for r in _mapping_rows("fdi_hubs.csv")]
    bad = [h for h in v if h not in ids]  # type: ignore[attr-defined]
    return (
        f"hub(s) {bad} not in data/mappings/fdi_hubs.csv (each hub needs a source)"
        if bad
        else None
    )


def _share(v: object) -> str | None:
    return None if 0 <= float(v) <= 1 else f"must be between 0 and 1 (got {v!r})"


def _draws(v: object) -> str | None:
    return None if 100 <= int(v) <= 200_000 else f"must be 100-200000 (got {v!r})"


def _noise(v: object) -> str | None:
    return None if 0 <= float(v) <= 2 else f"must be between 0 and 2 (got {v!r})"


# --- ranking (issue 11): pillar-first weights, hubs, outliers ---------------------------------


def _ranking_weights(v: object) -> str | None:
    for key, w in dict(v).items():  # type: ignore[call-overload]
        if key not in RANKING_PILLARS and key not in RANKING_INDICATORS:
            return (
                f"unknown pillar or indicator {key!r}; pillars: {', '.join(RANKING_PILLARS)}; "
                f"indicators (weight within their pillar): {', '.join(RANKING_INDICATORS)}"
            )
        if isinstance(w, bool) or not isinstance(w, int | float) or w < 0:
            return f"weight of {key!r} must be a number >= 0 (got {w!r})"
    return None


# --- end ranking --------------------------------------------------------------------------------


def _min_points(v: object) -> str | None:
    return None if 3 <= int(v) <= 30 else f"must be 3-30 (got {v!r})"


def _nonneg(v: object) -> str | None:
    return None if int(v) >= 0 else f"must be >= 0 (got {v!r})"


SPECS: Mapping[str, Spec] = MappingProxyType(
    {
        "run_name": Spec(str, "adhoc", "name of the run (letters, digits, - _ .)", _run_name),
        "sector": Spec(
            str, "textile", "report sector: textile | chemical | pharma", _one_of(*SECTOR_FOCUS)
        ),
        "start_year": Spec(int, 2015, "first year shown", _year),
        "end_year": Spec(int, 2024, "last year shown", _year),
        "fx_basis": Spec(
            str, "apbn", "exchange-rate basis: apbn | market", _one_of("apbn", "market")
        ),
        "fx_fallback": Spec(
            str,
            "market",
            "basis for years the main one lacks: apbn | market | none",
            _one_of("apbn", "market", "none"),
        ),
        "partners": Spec(
            list,
            ["SGP", "CHN", "HKG", "JPN", "MYS", "KOR", "USA", "NLD"],
            "partner ISO3 codes to show",
            _partners,
        ),
        "partner": Spec(str, "DEU", "partner of a brief: ISO 3166 alpha-3 code", _partner),
        "language": Spec(
            str, "en", "report language: en | id (Bahasa Indonesia)", _one_of("en", "id")
        ),
        "seed": Spec(int, 20261127, "random seed", _nonneg),
        "horizon": Spec(int, 2030, "last forecast year", _horizon),
        "interpolate": Spec(
            bool, False, "fill interior gaps log-linearly (flagged): true | false"
        ),
        "gravity_assumed": Spec(
            dict,
            {},
            "literature coefficients for the gravity fit: {term: {value, citation}}",
            _assumed,
        ),
        # -- gravity (report 20) --
        "gravity_priors": Spec(
            dict,
            {"agreement": "kox_rojas_romagosa_2020_pta"},
            "normal priors for gravity terms: {term: prior id in mappings/gravity_priors.csv}",
            _gravity_priors,
        ),
        "gravity_hubs": Spec(
            list,
            ["NLD", "GBR", "IRL", "SGP", "CHE", "LUX", "HKG", "VGB", "BMU", "CYM", "MUS"],
            "hub economies (rows of data/mappings/fdi_hubs.csv, each with its source)",
            _gravity_hubs,
        ),
        "gravity_draws": Spec(int, 1000, "coefficient draws for the potential intervals", _draws),
        "ranking_normalisation": Spec(
            str,
            "minmax",
            "normalisation: minmax | zscore | rank",
            _one_of("minmax", "zscore", "rank"),
        ),
        "ranking_aggregation": Spec(
            str,
            "arithmetic",
            "aggregation: arithmetic | geometric | topsis",
            _one_of("arithmetic", "geometric", "topsis"),
        ),
        # --- ranking (issue 11) ---
        "ranking_weights": Spec(
            dict,
            {
                "sector": 2,
                "capacity": 1,
                "market": 1,
                "presence": 1,
                "ties": 1,
                "sector_value_added": 0.5,
            },
            "pillar weights (sector, capacity, market, presence, ties; missing = 1) and "
            "indicator weights within their pillar (missing = 1)",
            _ranking_weights,
        ),
        "ranking_imputation": Spec(
            str,
            "worst",
            "gaps: worst | pillar_mean | median (worst observed value: a gap never helps)",
            _one_of("worst", "pillar_mean", "median"),
        ),
        "ranking_min_coverage": Spec(
            (int, float),
            0.5,
            "share of each pillar's indicator weight a partner must cover",
            _share,
        ),
        "ranking_hub_treatment": Spec(
            str,
            "as_is",
            "hubs' presence and outward-FDI indicators: as_is | discounted | excluded",
            _one_of("as_is", "discounted", "excluded"),
        ),
        "ranking_hub_discount": Spec(
            (int, float), 0.5, "multiplier of hubs' indicators when discounted", _share
        ),
        "ranking_outliers": Spec(
            str,
            "winsorise",
            "outliers (COINr rule): winsorise | log | none",
            _one_of("winsorise", "log", "none"),
        ),
        "ranking_draws": Spec(int, 2000, "Monte Carlo draws for rank bands", _draws),
        "ranking_noise": Spec(
            (int, float), 0.1, "indicator noise (log-scale sd) in the Monte Carlo", _noise
        ),
        "scenario": Spec(
            dict,
            {"name": "no-policy-change"},
            "policy scenario: name, description, uplifts, shocks, agreements",
            _scenario,
        ),
        # --- investment flows: nowcast, reconciliation, views, sector fans (issue 13) -----
        "nowcast_model": Spec(
            str,
            "ratio",
            "nowcast of the partial year: ratio | seasonal_naive",
            _one_of("ratio", "seasonal_naive"),
        ),
        "reconcile_method": Spec(
            str,
            "mint",
            "PMA + PMDN = total reconciliation: mint | wls | ols | bottom_up",
            _one_of("mint", "wls", "ols", "bottom_up"),
        ),
        "price_basis": Spec(
            str,
            "nominal",
            "prices of the headline view: nominal | real (GDP deflator)",
            _one_of("nominal", "real"),
        ),
        "deflator_base_year": Spec(int, 2015, "GDP deflator base year (= 100), real view", _year),
        "usd_rate_year": Spec(
            int, 2024, "year whose fx_basis rate converts PMA to US$ for every year", _year
        ),
        "min_fan_points": Spec(
            int, 5, "fewest consecutive usable years for a sector forecast", _min_points
        ),
    }
)


@dataclass(frozen=True)
class Params:
    """A validated, merged parameter set.

    Attributes
    ----------
    values
        Key -> value, every declared key present (defaults filled in, and listed in
        ``defaulted``).
    origin
        Key -> the file (or ``default``/``override``) that set it.
    files
        The layered files, in order.
    """

    values: Mapping[str, object]
    origin: Mapping[str, str] = field(default_factory=dict)
    files: tuple[str, ...] = ()

    def __getattr__(self, name: str) -> object:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def sectors(self) -> tuple[str, ...]:
        """Ledger sectors this report draws on."""
        return SECTOR_FOCUS[str(self.values["sector"])]

    @property
    def fx_fallback_basis(self) -> str | None:
        """``fx_fallback`` with ``none`` mapped to None."""
        v = self.values["fx_fallback"]
        return None if v == "none" else str(v)

    def to_dict(self) -> dict[str, object]:
        """Plain, JSON-ready dict of the values (lists and mappings copied)."""
        return {k: _plain(v) for k, v in self.values.items()}

    def for_notebook(self, declared: Iterable[str]) -> dict[str, object]:
        """The subset of values a notebook declares in its parameters cell."""
        declared = set(declared)
        return {k: v for k, v in self.to_dict().items() if k in declared}


def _plain(v: object) -> object:
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, Mapping):
        return {k: _plain(x) for k, x in v.items()}
    return v


def _check_value(key: str, value: object, source: str) -> object:
    spec = SPECS.get(key)
    if spec is None:
        raise ParamsError(source, key, "unknown key; known keys are " + ", ".join(sorted(SPECS)))
    expected = spec.type
    # YAML booleans are ints in Python: a bool is valid only where a bool is declared.
    if (isinstance(value, bool) and expected is not bool) or not isinstance(value, expected):
        name = (
            expected.__name__
            if isinstance(expected, type)
            else " or ".join(t.__name__ for t in expected)
        )
        raise ParamsError(source, key, f"expected {name}, got {type(value).__name__} {value!r}")
    if isinstance(value, list):
        value = tuple(value)
    if isinstance(value, dict):
        value = MappingProxyType(dict(value))
    if spec.check is not None:
        problem = spec.check(value)
        if problem:
            raise ParamsError(source, key, problem)
    return value


def validate_params(
    layers: Iterable[tuple[str, Mapping[str, object]]], *, fill_defaults: bool = True
) -> Params:
    """Merge ``(source, mapping)`` layers (later wins) and validate every key and value."""
    values: dict[str, object] = {}
    origin: dict[str, str] = {}
    sources: list[str] = []
    for source, mapping in layers:
        sources.append(source)
        if not isinstance(mapping, Mapping):
            raise ParamsError(
                source, None, f"expected a mapping of key: value, got {type(mapping).__name__}"
            )
        for key, value in mapping.items():
            values[str(key)] = _check_value(str(key), value, source)
            origin[str(key)] = source
    if fill_defaults:
        for key, spec in SPECS.items():
            if key not in values:
                values[key] = _check_value(key, spec.default, "default")
                origin[key] = "default"
    if (
        "start_year" in values
        and "end_year" in values
        and (values["start_year"] > values["end_year"])
    ):
        raise ParamsError(
            origin["end_year"],
            "end_year",
            f"end_year {values['end_year']} is before start_year "
            f"{values['start_year']} (set in {origin['start_year']})",
        )
    return Params(MappingProxyType(values), MappingProxyType(origin), tuple(sources))


def _display(path: Path) -> str:
    try:
        return path.resolve().relative_to(paths.ROOT).as_posix()
    except ValueError:
        return str(path)


def read_params_file(path: str | Path) -> dict[str, object]:
    """Read one YAML params file (an empty file is an empty mapping)."""
    path = Path(path)
    label = _display(path)
    if not path.is_file():
        raise ParamsError(label, None, "file not found")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ParamsError(label, None, f"not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParamsError(
            label, None, f"expected a mapping of key: value, got {type(data).__name__}"
        )
    return data


def resolve_params_file(name: str | Path) -> Path:
    """Accept ``params/textile.yaml``, ``textile.yaml`` or ``textile``."""
    p = Path(name)
    if p.is_file():
        return p
    for cand in (paths.PARAMS / p, paths.PARAMS / f"{p}.yaml"):
        if cand.is_file():
            return cand
    return p


def load_params(*files: str | Path, overrides: Mapping[str, object] | None = None) -> Params:
    """Load, merge and validate params files (later wins), then ``overrides``.

    Examples
    --------
    >>> p = load_params("params/base.yaml", "params/textile.yaml")  # doctest: +SKIP
    >>> p.sector, p.sectors  # doctest: +SKIP
    ('textile', ('textile', 'apparel', ...))
    """
    layers = []
    for f in files:
        path = resolve_params_file(f)
        layers.append((_display(path), read_params_file(path)))
    if overrides:
        layers.append(("override", dict(overrides)))
    return validate_params(layers)


def notebook_parameters(notebook: str | Path) -> dict[str, dict[str, object]]:
    """Return the parameters a notebook declares (``papermill.inspect_notebook``)."""
    import papermill as pm

    return pm.inspect_notebook(str(notebook))


def params_from(namespace: Mapping[str, object], source: str = "parameters cell") -> Params:
    """Validate the declared parameters found in a notebook's namespace (``globals()``)."""
    return validate_params([(source, {k: namespace[k] for k in SPECS if k in namespace})])
