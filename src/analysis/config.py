"""Typed configuration: every parameter declared once, validated before any kernel starts.

:class:`Params` declares each parameter once, as a typed pydantic field with its default,
bounds, choices and help text. Everything else derives from that declaration:

- **validation** of layered YAML files (``params/base.yaml`` then a sector or scenario file;
  later wins), each error naming the file and the key (``ranking_weights.presense``) and what
  is allowed; nested values (scenario rules, ranking weights, assumed gravity coefficients)
  are checked as deeply as scalars, numbers for finiteness and range;
- the **check of** ``params/base.yaml`` and of every notebook's tagged ``parameters`` cell
  against it (``tests/test_config.py``);
- the **settings groups** (:data:`GROUPS`): ``params.ranking``, ``params.ledger``, ... are
  views of the flat keys, from which each study builds its plain settings with one function
  (``analysis.studies.<study>.settings``), so models never see this object.

Files are read by :func:`analysis.base.safe_yaml.load_yaml` (no aliases, no repeated keys,
bounded depth, UTF-8 only). This module sits at the bottom of the package: it imports the
vocabulary and the data layer's sector map, never a model.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from analysis.base import paths
from analysis.base.errors import MitraError
from analysis.base.safe_yaml import YamlError, load_yaml
from analysis.base.vocab import (
    DEFAULT_FX_BASIS,
    DEFAULT_FX_FALLBACK,
    DEFAULT_SEED,
    RANKING_INDICATORS,
    RANKING_PILLARS,
    REPORT_SECTORS,
    SECTOR_FOCUS,
)

# Value types live in analysis.config_types; the ones the declaration uses are imported here.
from analysis.config_types import (
    _DEFAULT_HUBS,
    AgreementRule,
    AssumedCoefficient,
    GravityTerm,
    PartnerCode,
    ScenarioConfig,
    Shock,
    Uplift,
    Weight,
    WeightKey,
    _country,
    _hubs,
    _priors,
    _run_name,
    _Strict,
    _weights_not_all_zero,
    check_partner,
)

__all__ = [
    "GROUPS",
    "AgreementRule",
    "AssumedCoefficient",
    "Group",
    "Params",
    "ParamsError",
    "ScenarioConfig",
    "Shock",
    "Uplift",
    "check_partner",
    "declared",
    "load_params",
    "notebook_parameters",
    "params_from",
    "read_params_file",
    "resolve_params_file",
    "scenario_problem",
    "validate_params",
]


class ParamsError(MitraError, ValueError):
    """A parameter file or value is invalid; the message names the file and the key.

    Attributes
    ----------
    source
        The file (or ``override``, ``parameters cell``) holding the fault.
    key
        The top-level parameter, if the fault sits in one.
    path
        The full path to the fault inside it (``ranking_weights.presense``).
    line
        The line in the file, where known (faults found while reading the YAML).
    """

    def __init__(
        self,
        source: str,
        key: str | None,
        problem: str,
        *,
        path: str | None = None,
        line: int | None = None,
    ) -> None:
        self.source = source
        self.key = key
        self.path = path or key
        self.line = line
        where = source + (f", line {line}" if line is not None else "")
        if self.path:
            where += f"{',' if line is not None else ':'} key '{self.path}'"
        super().__init__(f"{where}: {problem}")


# --- settings groups ---------------------------------------------------------------------------

#: The parameters each study (and the shared inputs) read: views of the flat declaration
#: below, so params files and notebooks keep their flat keys. An entry ending in ``_`` is a
#: prefix: every parameter starting with it joins the group under its name without the
#: prefix (``ranking_weights`` is ``params.ranking.weights``), so a new ``ranking_*`` or
#: ``gravity_*`` parameter needs no change here; any other new parameter is one name added
#: to its group's line.
GROUPS: dict[str, tuple[str, ...]] = {
    "ledger": ("fx_basis", "fx_fallback"),
    "audit": ("sector", "start_year", "end_year", "partners", "language"),
    "flows": (
        "sector", "start_year", "end_year", "horizon", "interpolate", "partners", "scenario",
        "nowcast_model", "reconcile_method", "price_basis", "deflator_base_year",
        "usd_rate_year", "min_fan_points", "seed",
    ),
    "gravity": ("sector", "partners", "seed", "gravity_"),
    "ranking": ("sector", "end_year", "partners", "seed", "ranking_"),
    "brief": ("partner", "sector", "language", "start_year", "end_year"),
}  # fmt: skip


class Group(Mapping):
    """A read-only view of one settings group: ``g.weights`` or ``g["weights"]``.

    Values are plain copies (mappings as dicts, lists as lists). A parameter the params set
    does not cover (a notebook that does not declare it) takes its declared default, so a
    study never re-declares one.
    """

    def __init__(self, name: str, values: Mapping[str, object]) -> None:
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_values", dict(values))

    def __getitem__(self, key: str) -> object:
        return _plain(self._values[key])

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __getattr__(self, key: str) -> object:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(
                f"settings group {self._name!r} has no {key!r}; it has {', '.join(self._values)}"
            ) from None

    def __setattr__(self, key: str, value: object) -> None:
        raise AttributeError("a settings group is read-only")

    def __repr__(self) -> str:
        return f"Group({self._name!r}, {self._values!r})"


def group_keys(name: str) -> dict[str, str]:
    """Short name -> parameter of group ``name`` (in declaration order)."""
    entries = GROUPS[name]
    out: dict[str, str] = {}
    for key in Params.model_fields:
        for entry in entries:
            if entry.endswith("_") and key.startswith(entry):
                out[key.removeprefix(entry)] = key
            elif key == entry:
                out[key] = key
    return out


def declared(key: str) -> object:
    """The declared default of parameter ``key`` (lists as tuples, mappings as dicts).

    Study settings read their defaults from here (``start_year: int = declared("start_year")``)
    rather than repeat the declaration's value (``tests/test_one_source.py``).
    """
    value = _plain(Params.model_fields[key].get_default(call_default_factory=True))
    return tuple(value) if isinstance(value, list) else value


# --- the declaration -------------------------------------------------------------------------


class Params(_Strict):
    """A validated parameter set: one typed field per parameter, declared here only.

    Build it with :func:`load_params` (layered files) or :func:`params_from` (a notebook's
    namespace). ``origin`` says which file set each key; ``keys`` are the parameters this
    set covers (for a notebook, the ones its parameters cell declares): reading any other
    is an error, so a report never shows or uses a default it did not declare.
    """

    run_name: Annotated[str, AfterValidator(_run_name)] = Field(
        "adhoc", description="name of the run (letters, digits, - _ .)"
    )
    sector: Literal[REPORT_SECTORS] = Field(  # type: ignore[valid-type]
        "textile", description="report sector: textile | chemical | pharma"
    )
    start_year: int = Field(2015, ge=2000, le=2050, description="first year shown")
    end_year: int = Field(2024, ge=2000, le=2050, description="last year shown")
    fx_basis: Literal["apbn", "market"] = Field(
        DEFAULT_FX_BASIS, description="exchange-rate basis: apbn | market"
    )
    fx_fallback: Literal["apbn", "market", "none"] = Field(
        DEFAULT_FX_FALLBACK, description="basis for years the main one lacks: apbn | market | none"
    )
    partners: Annotated[list[PartnerCode], Field(min_length=1, max_length=300)] = Field(
        default_factory=lambda: ["SGP", "CHN", "HKG", "JPN", "MYS", "KOR", "USA", "NLD"],
        description="partner ISO3 codes to show",
    )
    seed: int = Field(DEFAULT_SEED, ge=0, le=2**32 - 1, description="random seed")
    horizon: int = Field(2030, ge=2020, le=2050, description="last forecast year")
    interpolate: bool = Field(
        False, description="fill interior gaps log-linearly (flagged): true | false"
    )
    gravity_assumed: dict[GravityTerm, AssumedCoefficient] = Field(
        default_factory=dict,
        description="literature coefficients for the gravity fit: {term: {value, citation}}",
    )
    ranking_normalisation: Literal["minmax", "zscore", "rank"] = Field(
        "minmax", description="normalisation: minmax | zscore | rank"
    )
    ranking_aggregation: Literal["arithmetic", "geometric", "topsis"] = Field(
        "arithmetic", description="aggregation: arithmetic | geometric | topsis"
    )
    ranking_weights: Annotated[dict[WeightKey, Weight], AfterValidator(_weights_not_all_zero)] = (
        Field(
            default_factory=lambda: {
                "sector": 2,
                "capacity": 1,
                "market": 1,
                "presence": 2,
                "ties": 1,
                # Exports and RCA are capability evidence beside the investor-side indicators;
                # the 2013 value added is an old vintage (the ranking's validation section).
                "sector_exports": 0.5,
                "sector_rca": 0.5,
                "sector_value_added": 0.25,
            },
            description="pillar weights (sector, capacity, market, presence, ties; missing = 1) "
            "and indicator weights within their pillar (missing = 1)",
        )
    )
    ranking_validation_first_origin: int = Field(
        2014,
        ge=2010,
        le=2100,
        description="first origin year of the ranking's backtest against later BKPM lists",
    )
    ranking_imputation: Literal["worst", "pillar_mean", "median"] = Field(
        "worst",
        description="gaps: worst | pillar_mean | median (worst observed value: a gap never helps)",
    )
    ranking_min_coverage: float = Field(
        0.5,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="share of each pillar's indicator weight a partner must cover",
    )
    ranking_draws: int = Field(2000, ge=100, le=200_000, description="Monte Carlo draws")
    ranking_noise: float = Field(
        0.1, ge=0, le=2, allow_inf_nan=False, description="indicator noise (log-scale sd)"
    )
    ranking_hub_treatment: Literal["as_is", "discounted", "excluded"] = Field(
        "as_is",
        description="hubs' presence and outward-FDI indicators: as_is | discounted | excluded",
    )
    ranking_hub_discount: float = Field(
        0.5, ge=0, le=1, allow_inf_nan=False, description="multiplier of hubs' indicators"
    )
    ranking_outliers: Literal["winsorise", "log", "none"] = Field(
        "winsorise", description="outliers (COINr rule): winsorise | log | none"
    )
    # -- gravity study (report 20): priors and hubs are rows of data/mappings files ----------
    gravity_priors: Annotated[
        dict[GravityTerm, Annotated[str, Field(min_length=1)]], AfterValidator(_priors)
    ] = Field(
        default_factory=lambda: {"agreement": "kox_rojas_romagosa_2020_pta"},
        description="normal priors for gravity terms: {term: prior id in gravity_priors.csv}",
    )
    gravity_hubs: Annotated[list[PartnerCode], AfterValidator(_hubs)] = Field(
        default_factory=lambda: list(_DEFAULT_HUBS),
        max_length=300,
        description="hub economies (rows of data/mappings/fdi_hubs.csv, each with its source)",
    )
    gravity_draws: int = Field(
        1000, ge=100, le=200_000, description="coefficient draws for the potential intervals"
    )
    gravity_distribution_reps: int = Field(
        40,
        ge=0,
        le=1000,
        description="simulated top-N samples per scenario of the distribution check (0: skip)",
    )
    # -- investment flows (report 10): nowcast, reconciliation, views, sector fans -----------
    nowcast_model: Literal["ratio", "seasonal_naive"] = Field(
        "ratio", description="nowcast of the partial year: ratio | seasonal_naive"
    )
    reconcile_method: Literal["mint", "wls", "ols", "bottom_up"] = Field(
        "mint", description="PMA + PMDN = total reconciliation: mint | wls | ols | bottom_up"
    )
    price_basis: Literal["nominal", "real"] = Field(
        "nominal", description="prices of the headline view: nominal | real (GDP deflator)"
    )
    deflator_base_year: int = Field(
        2015, ge=2000, le=2050, description="GDP deflator base year (= 100), real view"
    )
    usd_rate_year: int = Field(
        2024, ge=2000, le=2050, description="year whose fx_basis rate converts PMA to US$"
    )
    min_fan_points: int = Field(
        5, ge=3, le=30, description="fewest consecutive usable years for a sector forecast"
    )
    # -- partner briefs (report 40) ----------------------------------------------------------
    partner: Annotated[str, AfterValidator(_country)] = Field(
        "DEU", description="partner of a brief: ISO 3166 alpha-3 code"
    )
    language: Literal["en", "id"] = Field(
        "en", description="report language: en | id (Bahasa Indonesia)"
    )
    scenario: ScenarioConfig = Field(
        default_factory=lambda: {"name": "no-policy-change"},
        description="policy scenario: name, description, uplifts, shocks, agreements",
    )

    _origin: dict[str, str] = PrivateAttr(default_factory=dict)
    _files: tuple[str, ...] = PrivateAttr(default=())
    _keys: frozenset[str] | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _cross(self, info: ValidationInfo) -> Params:
        if not (info.context or {}).get("partial"):
            for key, problem in self.cross_problems(self.model_fields_set):
                raise ValueError(f"{key}: {problem}")
        return self

    def cross_problems(self, present: Iterable[str]) -> list[tuple[str, str]]:
        """Problems between keys (only among ``present`` ones): ``[(key, problem)]``.

        Checked on the merged set of layers, never on one layer alone (a sector file may
        move ``start_year`` past base.yaml's ``end_year`` and set a new one).
        """
        present = set(present)
        out = []
        if {"start_year", "end_year"} <= present and self.end_year < self.start_year:
            out.append(
                ("end_year", f"end_year {self.end_year} is before start_year {self.start_year}")
            )
        return out

    # Reading a parameter this set does not cover is an error (see the class docstring).
    def __getattribute__(self, name: str) -> Any:
        if name in type(self).model_fields:
            try:
                private = object.__getattribute__(self, "__pydantic_private__") or {}
            except AttributeError:  # still being built
                private = {}
            keys = private.get("_keys")
            if keys is not None and name not in keys:
                raise AttributeError(
                    f"parameter {name!r} is not declared by this notebook's parameters cell; "
                    "declare it there (with its help comment) to use it"
                )
        return super().__getattribute__(name)

    def __getattr__(self, name: str) -> Any:
        if name in type(self).model_fields:
            raise AttributeError(
                f"parameter {name!r} is not declared by this notebook's parameters cell; "
                "declare it there (with its help comment) to use it"
            )
        return super().__getattr__(name)  # type: ignore[misc]

    @property
    def keys(self) -> tuple[str, ...]:
        """The parameters this set covers, in declaration order."""
        keys = self._keys
        return tuple(k for k in type(self).model_fields if keys is None or k in keys)

    @property
    def origin(self) -> Mapping[str, str]:
        """Key -> the file (or ``default``, ``override``, ``parameters cell``) that set it."""
        return MappingProxyType(self._origin)

    @property
    def files(self) -> tuple[str, ...]:
        """The layered files, in order."""
        return self._files

    @property
    def values(self) -> Mapping[str, object]:
        """Read-only key -> value of the covered parameters (plain, JSON-ready values)."""
        return MappingProxyType(self.to_dict())

    @property
    def sectors(self) -> tuple[str, ...]:
        """Ledger sectors this report draws on."""
        return SECTOR_FOCUS[self.sector]

    @property
    def fx_fallback_basis(self) -> str | None:
        """``fx_fallback`` with ``none`` mapped to None."""
        return None if self.fx_fallback == "none" else self.fx_fallback

    def to_dict(self) -> dict[str, object]:
        """Plain, JSON-ready dict of the covered parameters (as a params file would set them)."""
        dumped = self.model_dump(mode="json")
        return {k: dumped[k] for k in self.keys}

    def for_notebook(self, declared: Iterable[str]) -> dict[str, object]:
        """The subset of values a notebook declares in its parameters cell."""
        declared = set(declared)
        return {k: v for k, v in self.to_dict().items() if k in declared}

    def group(self, name: str) -> Group:
        """The settings group ``name`` (see :data:`GROUPS`), uncovered keys at their default."""
        if name not in GROUPS:
            raise KeyError(f"no settings group {name!r}; groups: {', '.join(GROUPS)}")
        covered = set(self.keys)
        values = {}
        for short, key in group_keys(name).items():
            if key in covered:
                values[short] = getattr(self, key)
            else:
                field = type(self).model_fields[key]
                values[short] = field.get_default(call_default_factory=True)
        return Group(name, values)

    @property
    def ledger(self) -> Group:
        """Settings of the shared inputs (the ledger's exchange-rate basis)."""
        return self.group("ledger")

    @property
    def audit(self) -> Group:
        return self.group("audit")

    @property
    def flows(self) -> Group:
        return self.group("flows")

    @property
    def gravity(self) -> Group:
        return self.group("gravity")

    @property
    def ranking(self) -> Group:
        return self.group("ranking")

    @property
    def brief(self) -> Group:
        return self.group("brief")


def _plain(value: object) -> object:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


# --- errors in words -------------------------------------------------------------------------

_TYPE_WORDS = {
    "int_type": "int",
    "int_from_float": "int",
    "float_type": "number",
    "bool_type": "bool (true or false)",
    "string_type": "text",
    "list_type": "list",
    "dict_type": "mapping",
    "model_type": "mapping",
    "model_attributes_type": "mapping",
}


def _allowed_at(loc: tuple[object, ...]) -> list[str] | None:
    """Keys allowed in the mapping that holds the last element of ``loc``."""
    import typing

    from typing_extensions import get_type_hints, is_typeddict

    node: object = Params
    for part in loc[:-1]:
        while typing.get_origin(node) is typing.Annotated:
            node = typing.get_args(node)[0]
        if isinstance(node, type) and issubclass(node, BaseModel):
            field = node.model_fields.get(str(part))
            node = field.annotation if field is not None else None
        elif is_typeddict(node):
            node = get_type_hints(node, include_extras=True).get(str(part))
        elif typing.get_origin(node) is list:
            node = typing.get_args(node)[0]
        elif typing.get_origin(node) is dict:
            node = typing.get_args(node)[1]
        else:
            return None
    while typing.get_origin(node) is typing.Annotated:
        node = typing.get_args(node)[0]
    if isinstance(node, type) and issubclass(node, BaseModel):
        return list(node.model_fields)
    if is_typeddict(node):
        return list(get_type_hints(node))
    return None


def _loc_text(loc: tuple[object, ...]) -> str:
    out = ""
    for part in loc:
        if part == "[key]":
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _problem(err: Mapping[str, Any]) -> str:
    kind = err["type"]
    loc = tuple(err["loc"])
    value = err.get("input")
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        if len(loc) == 1:
            return "unknown key; known keys are " + ", ".join(Params.model_fields)
        allowed = _allowed_at(loc)
        return f"unknown key {loc[-1]!r}; allowed keys are {', '.join(allowed or ['?'])}"
    if kind == "literal_error":
        expected = ctx.get("expected", "")
        if loc and loc[0] == "ranking_weights" and loc[-1] == "[key]":
            return (
                f"unknown pillar or indicator {value!r}; pillars: {', '.join(RANKING_PILLARS)}; "
                f"indicators (weight within their pillar): {', '.join(RANKING_INDICATORS)}"
            )
        if loc and loc[-1] == "[key]":
            return f"unknown key {value!r}; allowed keys are {expected}"
        return f"must be one of {expected} (got {value!r})"
    if kind in _TYPE_WORDS:
        return f"expected {_TYPE_WORDS[kind]}, got {type(value).__name__} {value!r}"
    if kind == "finite_number":
        return f"must be a finite number (got {value!r})"
    bounds = {
        "greater_than_equal": ">=",
        "greater_than": ">",
        "less_than_equal": "<=",
        "less_than": "<",
    }
    if kind in bounds:
        limit = next(iter(ctx.values()), "?")
        return f"out of range: must be {bounds[kind]} {limit} (got {value!r})"
    if kind == "missing":
        return f"missing key {loc[-1]!r}; this mapping needs it"
    if kind in ("too_short", "string_too_short"):
        return f"too short or empty (got {value!r})"
    if kind == "too_long":
        return f"too long (got {len(value) if hasattr(value, '__len__') else value} items)"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    return f"{err['msg']} (got {value!r})"


def _raise_first(
    exc: ValidationError,
    origin: Mapping[str, str],
    default: str,
    lines: Mapping[str, int] | None = None,
) -> None:
    err = exc.errors(include_url=False)[0]
    loc = tuple(err["loc"])
    key = str(loc[0]) if loc else None
    source = origin.get(key, default) if key else default
    line = (lines or {}).get(key) if key else None
    if not loc and err["type"] == "value_error":
        # A cross-field rule: "<key>: <problem>".
        text = str((err.get("ctx") or {}).get("error", err["msg"]))
        key, _, problem = text.partition(": ")
        raise ParamsError(origin.get(key, default), key, problem) from None
    raise ParamsError(source, key, _problem(err), path=_loc_text(loc) or None, line=line) from None


def scenario_problem(value: object) -> str | None:
    """Return what is wrong with a scenario mapping (with the path to the fault), or None."""
    try:
        Params.model_validate({"scenario": value}, context={"partial": True})
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        return f"{_loc_text(tuple(err['loc']))}: {_problem(err)}"
    return None


# --- loading ---------------------------------------------------------------------------------


#: Mapping parameters a later layer replaces whole instead of merging into: a scenario is
#: one record (its rules belong together), not a set of independent entries.
REPLACED_WHOLE: frozenset[str] = frozenset({"scenario"})


def _merges(key: str, value: object, earlier: object) -> bool:
    """Whether ``value`` merges into ``earlier`` (both non-empty mappings; an empty one clears)."""
    return (
        key not in REPLACED_WHOLE
        and isinstance(value, Mapping)
        and isinstance(earlier, Mapping)
        and bool(value)
    )


def validate_params(
    layers: Iterable[tuple[str, Mapping[str, object]]], *, fill_defaults: bool = True
) -> Params:
    """Merge ``(source, mapping)`` layers (later wins) and validate every key and value.

    A mapping value (``ranking_weights``, ``gravity_priors``, ``gravity_assumed``) merges key
    by key into the earlier layers' mapping; an empty mapping clears it, and ``scenario``
    (one record) is replaced whole. ``origin`` then names every layer that set it.

    Each layer is validated on its own first, so an error names the file that holds it;
    cross-field rules (``end_year >= start_year``) are checked on the merged set.
    ``fill_defaults=False`` covers only the keys the layers set (a notebook's cell).
    """
    merged: dict[str, object] = {}
    origin: dict[str, str] = {}
    sources: list[str] = []
    for source, mapping in layers:
        sources.append(source)
        if not isinstance(mapping, Mapping):
            raise ParamsError(
                source, None, f"expected a mapping of key: value, got {type(mapping).__name__}"
            )
        layer = {str(k): v for k, v in mapping.items()}
        try:
            Params.model_validate(layer, context={"partial": True})
        except ValidationError as exc:
            lines = getattr(mapping, "lines", None)
            _raise_first(exc, dict.fromkeys(layer, source), source, lines)
        for key, value in layer.items():
            if _merges(key, value, merged.get(key)):
                # A mapping merges key by key into the earlier layers' one: a file that sets
                # ``ranking_weights: {sector: 3}`` changes one weight and keeps the others.
                merged[key] = {**merged[key], **value}  # type: ignore[dict-item]
                origin[key] = f"{origin[key]} + {source}"
            else:
                merged[key] = value
                origin[key] = source
    try:
        params = Params.model_validate(merged, context={"partial": True})
    except ValidationError as exc:  # pragma: no cover - every layer passed on its own
        _raise_first(exc, origin, "merged parameters")
    for key, problem in params.cross_problems(merged):
        raise ParamsError(origin[key], key, problem)
    if fill_defaults:
        for key in Params.model_fields:
            origin.setdefault(key, "default")
        params._keys = None
    else:
        params._keys = frozenset(merged)
    params._origin = origin
    params._files = tuple(sources)
    return params


def _display(path: Path) -> str:
    try:
        return path.resolve().relative_to(paths.ROOT).as_posix()
    except ValueError:
        return str(path)


class _FileLayer(dict):
    """A params file's mapping, with the line of each top-level key (for messages)."""

    lines: dict[str, int]


def _key_lines(path: Path) -> dict[str, int]:
    import re

    lines: dict[str, int] = {}
    with contextlib.suppress(OSError, UnicodeDecodeError):
        for n, text in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
            m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)\s*:", text)
            if m:
                lines.setdefault(m.group(1), n)
    return lines


def read_params_file(path: str | Path) -> dict[str, object]:
    """Read one YAML params file safely (an empty file is an empty mapping).

    Raises
    ------
    ParamsError
        Missing file, unsafe or invalid YAML (aliases, repeated keys, deep nesting, not
        UTF-8), or not a mapping; naming the file, the line and the key where known.
    """
    path = Path(path)
    label = _display(path)
    try:
        data = load_yaml(path, label)
    except YamlError as exc:
        raise ParamsError(label, exc.key, exc.problem, line=exc.line) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ParamsError(
            label, None, f"expected a mapping of key: value, got {type(data).__name__}"
        )
    layer = _FileLayer(data)
    layer.lines = _key_lines(path)
    return layer


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
    """Validate the parameters a notebook declares, found in its namespace (``globals()``).

    Only declared parameters are covered (no defaults filled in): the provenance cell then
    lists the values the report actually used, and reading an undeclared one is an error.
    """
    _check_injected(namespace, source)
    found = {k: namespace[k] for k in Params.model_fields if k in namespace}
    return validate_params([(source, found)], fill_defaults=False)


#: Names IPython puts in a kernel's namespace (never parameters).
_KERNEL_NAMES = frozenset({"In", "Out", "get_ipython", "exit", "quit", "open"})
_LITERAL_TYPES = (str, int, float, bool, list, dict, tuple, type(None))


def _check_injected(namespace: Mapping[str, object], source: str) -> None:
    """Fail on a parameter papermill injected that no notebook may take (a misspelt key).

    Plain ``papermill -p ranking_weigths ...`` only warns; this raises the error ``mitra``
    raises for the same key. Run where the notebook's first code cell validates its
    parameters: every plain value in the namespace then is a parameter. A known parameter
    this notebook does not declare (``partners`` from a sector file, in the brief) is
    accepted, as ``mitra`` accepts it in a params file: papermill warns that the notebook
    does not declare it.
    """
    if "In" not in namespace:  # not a kernel's namespace (a test's or a script's dict)
        return
    unknown = sorted(
        k
        for k, v in namespace.items()
        if not k.startswith("_")
        and k not in _KERNEL_NAMES
        and k not in Params.model_fields
        and isinstance(v, _LITERAL_TYPES)
    )
    if unknown:
        raise ParamsError(
            "injected parameters",
            unknown[0],
            "unknown key; known keys are " + ", ".join(Params.model_fields),
        )
