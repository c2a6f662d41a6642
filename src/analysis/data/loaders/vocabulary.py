"""What the loaders hand over: the panel's long format, and ISO 3166 economies only.

Every ``normalise`` returns :data:`LONG_COLUMNS` (the partner panel's long format plus a
``note``), money in US$ billion, with the panel's indicator codes.

Which economy codes the loaders keep: ISO 3166 alpha-3 countries, not regional aggregates.

The World Bank, IMF and UN Comtrade publish aggregates (``WLD``, ``EAS``, ``G001``, ``W00``)
beside countries, with codes of the same shape. The partner panel holds ISO 3166 economies
only (as the committed snapshot does), so the loaders keep a code when ISO 3166 knows it
(``pycountry``). Every other code is dropped and counted, never guessed; that includes
Kosovo, which has no ISO code (``XKX`` at the World Bank, ``UVK`` at the IMF).
"""

from __future__ import annotations

from functools import cache

import pycountry

__all__ = ["LONG_COLUMNS", "economy_iso3"]

#: The partner panel's long format, plus ``note`` (what the figure is, in words).
LONG_COLUMNS: tuple[str, ...] = (
    "iso3",
    "year",
    "indicator",
    "value",
    "unit",
    "source",
    "vintage",
    "note",
)


@cache
def economy_iso3(code: object) -> str | None:
    """Return the ISO alpha-3 code of an economy, or ``None`` for an aggregate or blank.

    Examples
    --------
    >>> economy_iso3("IDN"), economy_iso3("WLD"), economy_iso3("XKX")
    ('IDN', None, None)
    """
    if not isinstance(code, str):
        return None
    code = code.strip().upper()
    if len(code) != 3 or not code.isalpha():
        return None
    return code if pycountry.countries.get(alpha_3=code) is not None else None
