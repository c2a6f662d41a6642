"""Which economy codes the loaders keep: ISO 3166 alpha-3 countries, not regional aggregates.

The World Bank, IMF and UN Comtrade publish aggregates (``WLD``, ``EAS``, ``G001``, ``W00``)
beside countries, with codes of the same shape. The panel holds economies only, so the
loaders keep a code when ISO 3166 knows it (``pycountry``), plus Kosovo, which has no ISO
code and is ``XKX`` at the World Bank and ``UVK`` at the IMF (mapped to ``XKX``). Every
other code is dropped and counted, never guessed.
"""

from __future__ import annotations

from functools import cache

import pycountry

__all__ = ["SOURCE_ALIASES", "economy_iso3"]

#: Source-specific codes for economies ISO 3166 does not list, mapped to the World Bank's.
SOURCE_ALIASES: dict[str, str] = {"XKX": "XKX", "UVK": "XKX", "KOS": "XKX"}


@cache
def economy_iso3(code: object) -> str | None:
    """Return the ISO alpha-3 code of an economy, or ``None`` for an aggregate or blank.

    Examples
    --------
    >>> economy_iso3("IDN"), economy_iso3("WLD"), economy_iso3("UVK")
    ('IDN', None, 'XKX')
    """
    if not isinstance(code, str):
        return None
    code = code.strip().upper()
    if code in SOURCE_ALIASES:
        return SOURCE_ALIASES[code]
    if len(code) != 3 or not code.isalpha():
        return None
    return code if pycountry.countries.get(alpha_3=code) is not None else None
