"""Messages in English and Bahasa Indonesia, from one catalogue per language.

Every heading, label, legend and key-finding sentence a reader sees comes from
``src/analysis/messages/<language>.yaml`` (nested keys, addressed as ``"brief.rank.title"``).
Both catalogues hold the same keys with the same placeholders; ``tests/test_i18n.py`` fails
when one is missing in either language.

Placeholders use :class:`str.format` syntax with locale-aware number specs:

- ``{value:n1}``: a number with 1 decimal and the language's separators (en ``1,234.5``,
  id ``1.234,5``); ``n0``, ``n2``, ... likewise;
- ``{share:p0}``: a share (0.25) as a percentage (``25%`` / ``25%``);
- any other spec is passed to :func:`format` unchanged.

Labels of codes (sectors, measures, flags, partners, indicators, pillars, ...) come from
:func:`label`: the catalogue's ``label.<kind>.<code>`` first; ledger sectors from
``data/mappings/sectors.csv`` (``label_en`` / ``label_id``); countries by name from
ISO 3166 (``pycountry``, with its Indonesian translations); else the code itself.
"""

from __future__ import annotations

import gettext
import math
import string
from collections.abc import Mapping
from functools import cache
from pathlib import Path

import yaml

from analysis.base.errors import MitraError

__all__ = [
    "LANGUAGES",
    "MessageError",
    "Messages",
    "catalogue",
    "count",
    "format_date",
    "format_number",
    "label",
    "messages",
    "placeholders",
    "plural_form",
]

#: Languages with a catalogue: English and Bahasa Indonesia.
LANGUAGES: tuple[str, ...] = ("en", "id")
CATALOGUES = Path(__file__).resolve().parents[1] / "messages"  # src/analysis/messages
#: Written where a figure is missing (an en dash, explained in every legend).
MISSING = "–"

#: CLDR locales of the languages (Babel): separators, month names, plural rules.
#: English as written in the UK (the reports' spelling): "7 December 2026".
LOCALES: dict[str, str] = {"en": "en_GB", "id": "id"}


class MessageError(MitraError, KeyError):
    """A message key or language that the catalogue does not have."""

    def __str__(self) -> str:  # KeyError would print the repr of the message
        return str(self.args[0])


def _check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise MessageError(
            f"unknown language {language!r}: expected one of {', '.join(LANGUAGES)}"
        )
    return language


def _flatten(tree: Mapping[str, object], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in tree.items():
        full = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, full + "."))
        else:
            out[full] = str(value)
    return out


@cache
def catalogue(language: str) -> Mapping[str, str]:
    """Return the flat ``key -> message`` catalogue of a language."""
    path = CATALOGUES / f"{_check_language(language)}.yaml"
    return _flatten(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


def placeholders(text: str) -> set[str]:
    """Names of the placeholders in a message (``{value:n1}`` -> ``value``)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def format_number(value: object, digits: int = 1, language: str = "en") -> str:
    """Format a number with the language's separators; missing values become ``–``.

    Examples
    --------
    >>> format_number(1234.5, 1, "en"), format_number(1234.5, 1, "id")
    ('1,234.5', '1.234,5')
    """
    _check_language(language)
    if value is None:
        return MISSING
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(x):
        return MISSING
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    from babel.numbers import format_decimal

    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    # CLDR separators (en 1,234.5; id 1.234,5), rounding half-even as before.
    text = format_decimal(x, format=pattern, locale=LOCALES[language], group_separator=True)
    if text.lstrip("-\u2212").strip("0,.") == "":  # -0.0 -> 0.0
        text = text.lstrip("-\u2212")
    return text


def format_date(value: object, language: str = "en") -> str:
    """A date as written in the language: en ``7 December 2026``, id ``7 Desember 2026``.

    ``value`` is a :class:`datetime.date` or an ISO ``YYYY-MM-DD`` string; missing -> ``–``.
    """
    import datetime as dt

    from babel.dates import format_date as _babel_date

    _check_language(language)
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return MISSING
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    return _babel_date(day, format="long", locale=LOCALES[language])


def plural_form(n: object, language: str = "en") -> str:
    """CLDR plural category of ``n`` in the language (``one``/``other``; Indonesian: ``other``)."""
    from babel import Locale

    return Locale.parse(LOCALES[_check_language(language)]).plural_form(abs(float(n)))  # type: ignore[arg-type]


class _Formatter(string.Formatter):
    def __init__(self, language: str) -> None:
        self.language = language

    def format_field(self, value: object, format_spec: str) -> str:
        if format_spec[:1] in ("n", "p") and format_spec[1:].isdigit():
            digits = int(format_spec[1:])
            if format_spec[0] == "p":
                if value is None or (isinstance(value, float) and math.isnan(value)):
                    return MISSING
                return format_number(100 * float(value), digits, self.language) + "%"  # type: ignore[arg-type]
            return format_number(value, digits, self.language)
        return super().format_field(value, format_spec)


class Messages:
    """The messages of one language: ``m("key", **values)``, ``m.number``, ``m.label``.

    Examples
    --------
    >>> m = Messages("id")
    >>> m.number(1957287.396, 1)
    '1.957.287,4'
    """

    def __init__(self, language: str = "en") -> None:
        self.language = _check_language(language)
        self._catalogue = catalogue(language)
        self._formatter = _Formatter(language)

    def __call__(self, key: str, **values: object) -> str:
        """Return message ``key`` with its placeholders filled in."""
        try:
            text = self._catalogue[key]
        except KeyError:
            raise MessageError(
                f"message {key!r} is not in the {self.language!r} catalogue "
                f"({CATALOGUES / (self.language + '.yaml')})"
            ) from None
        if not values:
            return text
        return self._formatter.format(text, **values)

    def has(self, key: str) -> bool:
        """True when the catalogue has ``key``."""
        return key in self._catalogue

    def number(self, value: object, digits: int = 1) -> str:
        """Format a number in this language (``–`` when missing)."""
        return format_number(value, digits, self.language)

    def date(self, value: object) -> str:
        """A date in this language (``7 Desember 2026``); see :func:`format_date`."""
        return format_date(value, self.language)

    def plural(self, key: str, n: object, **values: object) -> str:
        """Message ``key.<plural form of n>`` (``one``/``other``) with ``n`` and ``values``.

        Examples
        --------
        >>> m = Messages("en")
        >>> m.plural("plural.partners", 1), m.plural("plural.partners", 3)
        ('1 partner', '3 partners')
        """
        form = plural_form(n, self.language)
        full = f"{key}.{form}" if f"{key}.{form}" in self._catalogue else f"{key}.other"
        return self(full, n=n, **values)

    def label(self, kind: str, code: object) -> str:
        """Human label of a code of one kind (see :func:`label`)."""
        return label(kind, code, self.language)


def count(n: object, noun: str, language: str = "en", **values: object) -> str:
    """``n`` with its noun in the plural form CLDR gives the language (Babel).

    ``noun`` names a ``plural.<noun>`` group of the catalogue (forms ``one``/``other``), so
    no reader sees a noun with "s" in brackets.

    Examples
    --------
    >>> count(1, "cells"), count(3, "cells"), count(2, "cells", "id")
    ('1 cell', '3 cells', '2 sel')
    """
    return messages(language).plural(f"plural.{noun}", n, **values)


@cache
def messages(language: str = "en") -> Messages:
    """Return the (cached) :class:`Messages` of a language."""
    return Messages(language)


@cache
def _sector_labels() -> dict[tuple[str, str], str]:
    import pandas as pd

    from analysis.base import paths

    table = pd.read_csv(paths.DATA / "mappings" / "sectors.csv", dtype=str)
    out = {}
    for row in table.itertuples(index=False):
        out[(row.sector, "en")] = row.label_en
        out[(row.sector, "id")] = row.label_id
    return out


@cache
def _country_name(code: str, language: str) -> str | None:
    import pycountry

    country = pycountry.countries.get(alpha_3=code)
    if country is None:
        return None
    name = getattr(country, "common_name", None) or country.name
    if language == "en":
        return name
    try:
        tr = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language]).gettext
    except OSError:
        return name
    return tr(country.name)


def label(kind: str, code: object, language: str = "en") -> str:
    """Return the human label of ``code`` (a sector, flag, partner, ...) in ``language``.

    Parameters
    ----------
    kind
        ``partner`` (ISO 3166 alpha-3, aggregates and ``AAA+BBB``), ``ledger_sector``
        (codes of ``data/mappings/sectors.csv``), or any ``label.<kind>`` group of the
        catalogue (``sector``, ``measure``, ``flag``, ``period``, ``pillar``,
        ``indicator``, ``status``, ``column``, ...).
    code
        The code. Several flags joined with ``;`` are labelled one by one.
    """
    _check_language(language)
    text = "" if code is None else str(code)
    if text == "" or text.lower() == "nan":
        return MISSING
    cat = catalogue(language)
    key = f"label.{kind}.{text}"
    if key in cat:
        return cat[key]
    if kind == "flag" and ";" in text:
        return "; ".join(label("flag", f, language) for f in text.split(";") if f)
    if kind == "partner":
        if "+" in text:
            return " + ".join(label("partner", p, language) for p in text.split("+"))
        return _country_name(text, language) or text
    if kind in ("ledger_sector", "sector"):
        found = _sector_labels().get((text, language))
        if found:
            return found
    return text
