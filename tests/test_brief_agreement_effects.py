"""The partner brief quotes a pending agreement's effect on measured flows (report 20's)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.studies.brief import BriefSettings, PartnerBrief


def _brief(effects: pd.DataFrame, language: str = "en") -> PartnerBrief:
    empty = pd.DataFrame()
    return PartnerBrief(
        settings=BriefSettings(partner="DEU", sector="chemical", language=language),
        ranking=None,
        potential=empty,
        history=empty,
        trade=empty,
        agreements=empty,
        fingerprint="test",
        effects=effects,
    )


def _effects(actual_effect: float) -> pd.DataFrame:
    # The shape agreement_effects() returns (values made up for the test).
    return pd.DataFrame(
        {
            "agreement": ["IEU-CEPA", "IEU-CEPA", "ICA-CEPA"],
            "partner_iso3": ["TOTAL", "TOTAL", "TOTAL"],
            "basis": ["actual", "model", "model"],
            "flow_usd_m": [1900.0, 14803.0, 716.0],
            "effect_usd_m": [actual_effect, 7785.0, 376.0],
            "lo": [400.0, 3152.0, 152.0],
            "hi": [1740.0, 14866.0, 694.0],
        }
    )


def test_the_effect_on_measured_flows_is_quoted_with_its_interval():
    text = _brief(_effects(999.0))._effect_sentences()
    assert text == [
        "If IEU-CEPA entered into force, PMA from its members would change by about US$ 999 "
        "million a year, applied to measured flows of US$ 1,900 million a year (members with "
        "a published figure) (95 % interval 400 to 1,740; partial equilibrium).",
        "If ICA-CEPA entered into force, PMA from its members would change by about US$ 376 "
        "million a year, applied to the gravity baseline (no member has a published flow) "
        "(95 % interval 152 to 694; partial equilibrium).",
    ]
    id_ = _brief(_effects(999.0), "id")._effect_sentences()
    assert id_[0].startswith(
        "Jika IEU-CEPA berlaku, PMA dari negara anggotanya berubah sekitar US$ 999 juta per "
        "tahun, dihitung dari arus terukur"
    )
    assert "1.900" in id_[0] and "1.740" in id_[0]


def test_without_a_measured_flow_the_model_baseline_is_quoted_and_labelled():
    text = _brief(_effects(np.nan))._effect_sentences()[0]
    assert "7,785" in text and "gravity baseline" in text
    assert _brief(pd.DataFrame())._effect_sentences() == []


def test_the_partners_own_flow_gets_its_bounds_when_it_is_below_the_list():
    # Germany is never listed: report 20 bounds its effect by the year's "below x".
    effects = pd.concat(
        [
            _effects(999.0).assign(year=2024),
            pd.DataFrame(
                {
                    "agreement": ["IEU-CEPA"],
                    "partner_iso3": ["DEU"],
                    "basis": ["actual"],
                    "year": [2024],
                    "flow_usd_m": [np.nan],
                    "effect_usd_m": [np.nan],
                    "lo": [0.0],
                    "hi": [3344.8],
                }
            ),
        ],
        ignore_index=True,
    )
    potential = pd.DataFrame(
        {
            "scope": ["total"],
            "partner_iso3": ["DEU"],
            "year": [2024],
            "predicted_usd_m": [1411.0],
            "ci_low": [998.0],
            "ci_high": [1917.0],
            "actual_usd_m": [np.nan],
            "actual_upper_usd_m": [3700.0],
        }
    )
    for lang, words in (
        ("en", "For Germany alone (PMA below US$ 3,700 million): between 0 and US$ 3,345 "
               "million a year."),
        ("id", "Untuk Jerman saja (PMA di bawah US$ 3.700 juta): antara 0 dan US$ 3.345 juta "
               "per tahun."),
    ):  # fmt: skip
        brief = _brief(effects, lang)
        brief.potential = potential
        assert (
            _brief(effects, lang)
            ._effect_sentences()[0]
            .endswith("equilibrium)." if lang == "en" else "parsial).")
        )
        assert brief._effect_sentences()[0].endswith(words), brief._effect_sentences()[0]
