"""Message catalogues: same keys and placeholders in every language, number formats, labels."""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.base.i18n import (
    LANGUAGES,
    MessageError,
    Messages,
    catalogue,
    count,
    format_number,
    label,
    placeholders,
)


def test_every_key_is_in_every_language():
    keys = {lang: set(catalogue(lang)) for lang in LANGUAGES}
    for lang in LANGUAGES:
        for other in LANGUAGES:
            missing = sorted(keys[other] - keys[lang])
            assert not missing, f"{lang}.yaml lacks keys that {other}.yaml has: {missing}"


def test_every_message_has_the_same_placeholders_in_every_language():
    en = catalogue("en")
    for lang in LANGUAGES:
        cat = catalogue(lang)
        for key, text in cat.items():
            assert placeholders(text) == placeholders(en[key]), (lang, key)


def test_indonesian_catalogue_is_translated_not_copied():
    en, id_ = catalogue("en"), catalogue("id")
    # Units, codes and proper names may coincide; sentences must not.
    same = [k for k in en if en[k] == id_[k] and len(en[k].split()) > 3]
    assert not same, f"untranslated messages: {same}"


def test_a_missing_key_names_the_catalogue():
    with pytest.raises(MessageError, match="not in the 'id' catalogue"):
        Messages("id")("brief.no_such_key")
    with pytest.raises(MessageError, match="unknown language"):
        Messages("fr")


@pytest.mark.parametrize(
    ("value", "digits", "en", "id_"),
    [
        (1957287.396, 1, "1,957,287.4", "1.957.287,4"),
        (1234.5, 1, "1,234.5", "1.234,5"),
        (0.626825, 3, "0.627", "0,627"),
        (-1234, 0, "-1,234", "-1.234"),
        (-0.04, 1, "0.0", "0,0"),
        (float("nan"), 1, "–", "–"),
        (None, 1, "–", "–"),
    ],
)
def test_number_formats(value, digits, en, id_):
    assert format_number(value, digits, "en") == en
    assert format_number(value, digits, "id") == id_


@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False), st.integers(0, 3))
def test_indonesian_format_reads_back_to_the_english_number(x, digits):
    en = format_number(x, digits, "en")
    id_ = format_number(x, digits, "id")
    back = id_.replace(".", "").replace(",", ".")
    assert back == en.replace(",", "")
    assert math.isclose(float(back), round(x, digits) + 0.0, abs_tol=10**-digits)


def test_placeholders_format_numbers_in_the_language():
    assert Messages("id")("audit.f_growth", start=2015, end=2024, growth=5.26) == (
        "Selama 2015-2024, total nasional tumbuh rata-rata 5,3 % per tahun."
    )
    text = Messages("en")("audit.f_total", total=1712.6, year=2024, pma_share=0.523)
    assert text.startswith("Realised investment reached Rp 1,712.6 trillion in 2024, 52%")


def test_labels_give_names_not_codes():
    assert label("partner", "DEU", "en") == "Germany"
    assert label("partner", "DEU", "id") == "Jerman"
    assert label("partner", "FRA", "id") == "Perancis"  # pycountry's Indonesian names
    assert label("partner", "CHN+HKG", "en") == "China + Hong Kong"
    assert label("ledger_sector", "chem_pharma", "id") == "Industri kimia dan farmasi"
    assert label("sector", "textile", "en") == "Textiles, apparel and footwear"
    assert label("flag", "derived;fx_converted", "en") == (
        "derived from cumulative figures; converted (chosen rate basis)"
    )
    assert label("partner", None, "en") == "–"
    assert label("partner", "XXX", "en") == "XXX"  # unknown codes stay visible, never hidden


def test_every_flag_in_the_ledger_has_a_label(ledger):
    flags = {f for s in ledger.to_frame()["flags"] for f in str(s).split(";") if f}
    for lang in LANGUAGES:
        unlabelled = sorted(f for f in flags if label("flag", f, lang) == f)
        assert not unlabelled, (lang, unlabelled)


# --- plurals: the catalogue's forms, chosen by CLDR (Babel), never "(s)" ---------------------


def test_counts_take_the_plural_form_cldr_gives_the_language():
    assert count(1, "partners") == "1 partner"
    assert count(0, "partners") == "0 partners"  # English: 0 is "other"
    assert count(2, "candidate_partners") == "2 candidate partners"
    assert count(1, "places") == "1 place" and count(3, "places") == "3 places"
    assert count(1, "weights_for", names="sector") == "Weight for sector"
    assert count(2, "columns_named", names="a, b") == "columns a, b"
    assert count(2000, "cells") == "2,000 cells"
    # Indonesian nouns do not inflect for number: one form, Indonesian separators.
    assert count(1, "partners", "id") == "1 negara mitra" == count(1, "partners", "id")
    assert count(2000, "cells", "id") == "2.000 sel"


def test_every_plural_group_has_each_form_in_every_language():
    for lang in LANGUAGES:
        cat = catalogue(lang)
        groups = {k.rsplit(".", 1)[0] for k in cat if k.startswith("plural.")}
        assert groups, lang
        for group in groups:
            forms = {k.rsplit(".", 1)[1] for k in cat if k.rsplit(".", 1)[0] == group}
            assert forms == {"one", "other"}, (lang, group, forms)


_S_IN_PARENS = re.compile(r"[A-Za-z]\(s\)")


def test_no_reader_sees_an_s_in_parentheses():
    """No message, note or error a reader sees says "partner(s)": counts go through
    :func:`analysis.base.i18n.count`. Every string literal of the package is checked."""
    for lang in LANGUAGES:
        bad = [k for k, v in catalogue(lang).items() if _S_IN_PARENS.search(v)]
        assert not bad, (lang, bad)
    package = Path(__file__).resolve().parents[1] / "src" / "analysis"
    found = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if _S_IN_PARENS.search(node.value):
                    found.append(f"{path.relative_to(package)}:{node.lineno}")
    assert not found, f'"(s)" in strings a reader may see: {found}'
