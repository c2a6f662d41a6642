"""The flows study's formatted tables: the ``table(name)`` dispatcher and ``show``, a mixin of
:class:`FlowStudy`.
"""

from __future__ import annotations

import pandas as pd

from analysis.base.i18n import messages
from analysis.present.formatting import (
    UNKNOWN,
    Table,
    censored_text,
    format_table,
    format_wide,
    show,
)

from .settings import (
    MEASURES,
)

# --- the result -----------------------------------------------------------------------------


class _FlowTables:
    """The formatted tables of :class:`FlowStudy` (one ``table(name)`` per report table)."""

    def table(self, name: str, language: str = "en") -> Table:
        """A table formatted for readers (:mod:`analysis.present.formatting`).

        ``nowcast``, ``nowcast_accuracy``, ``overview``, ``backtest``, ``coverage``,
        ``failures``, ``forecast``, ``pma_usd``, ``real``, ``sectors``,
        ``sector_forecasts``, ``scenario``, ``targets``, ``roadmap``, ``shares`` or
        ``partner_projection``. Rupiah in Rp billion, nominal unless the title says real.
        """
        m = messages(language)
        src = m("chart.source_flows")
        idr = {c: "idr_bn" for c in ("partial", "median", "lo_80", "hi_80", "lo_95", "hi_95")}
        fmt = dict(language=language, source=src)
        if name == "nowcast":
            f = self.nowcast.to_frame()
            if f.empty:
                f = pd.DataFrame(columns=["series", "info_set", "partial", "median", "lo_80",
                                          "hi_80", "ratio", "n_years", "used"])  # fmt: skip
            return format_table(
                f,
                title=m("flows.t_nowcast"),
                columns=["series", "info_set", "partial", "median", "lo_80", "hi_80", "ratio",
                         "n_years", "used"],
                codes={"series": "measure_short", "info_set": "period", "used": "yes_no"},
                units=idr,
                digits={"ratio": 3, "partial": 0, "median": 0, "lo_80": 0, "hi_80": 0},
                **fmt,
            )  # fmt: skip
        if name == "nowcast_accuracy":
            f = self.nowcast.accuracy().rename(
                columns={"first": "first_year", "last": "last_year"}
            )
            return format_table(
                f,
                title=m("flows.t_nowcast_accuracy"),
                labels={"coverage_80_calibrated": m("flows.c_coverage_cal"),
                        "calibrated_years": m("flows.c_calibrated_years")},
                codes={"series": "measure_short", "info_set": "period"},
                units={"mape": "pct", "max_ape": "pct"},
                digits={"mape": 2, "max_ape": 2, "coverage_80": 0,
                        "coverage_80_calibrated": 0},
                percent=["coverage_80", "coverage_80_calibrated"],
                **fmt,
            )  # fmt: skip
        if name == "nowcast_record":
            f = self.nowcast_record()
            return format_table(
                f,
                title=m("flows.t_nowcast_record", info_set=self.nowcast_record_info_set()),
                columns=["series", "year", "actual", "nowcast", "error_pct", "lo_80", "hi_80",
                         "covered_80", "lo_80_cal", "hi_80_cal", "covered_80_cal"],
                labels={"error_pct": m("flows.c_error_pct"),
                        "lo_80_cal": m("flows.c_lo_80_cal"),
                        "hi_80_cal": m("flows.c_hi_80_cal"),
                        "covered_80": m("flows.c_covered"),
                        "covered_80_cal": m("flows.c_covered_cal")},
                codes={"series": "measure_short", "covered_80": "yes_no",
                       "covered_80_cal": "yes_no"},
                units={c: "idr_bn" for c in ("actual", "nowcast", "lo_80", "hi_80",
                                              "lo_80_cal", "hi_80_cal")},
                digits={"error_pct": 2, **{c: 0 for c in ("actual", "nowcast", "lo_80",
                        "hi_80", "lo_80_cal", "hi_80_cal")}},
                **fmt,
            )  # fmt: skip
        if name == "sector_shares":
            f = self.sector_shares
            return format_table(
                f,
                title=m("flows.t_sector_shares"),
                columns=["sector", "measure", "year", "period", "value_idr_bn",
                         "national_idr_bn", "share", "growth", "national_growth"],
                labels={"value_idr_bn": m("flows.c_sector_value"),
                        "national_idr_bn": m("flows.c_national_value"),
                        "share": m("flows.c_share"), "growth": m("flows.c_growth_yoy"),
                        "national_growth": m("flows.c_national_growth")},
                codes={"sector": "ledger_sector", "measure": "measure_short",
                       "period": "period"},
                units={"value_idr_bn": "idr_bn", "national_idr_bn": "idr_bn"},
                digits={"value_idr_bn": 0, "national_idr_bn": 0, "share": 2, "growth": 1,
                        "national_growth": 1},
                percent=["share", "growth", "national_growth"],
                notes=[m("flows.n_nominal")],
                **fmt,
            )  # fmt: skip
        if name == "sector_partners":
            f = self.sector_partners.copy()
            f["projects"] = [str(int(x)) if pd.notna(x) else "" for x in f["projects"]]
            return format_table(
                f,
                title=m("flows.t_sector_partners"),
                columns=["sector", "year", "period_code", "country", "value_usd_m", "projects",
                         "flags", "source"],
                labels={"period_code": m("label.column.period"),
                        "country": m("label.column.partner"),
                        "value_usd_m": m("flows.c_pma_usd"),
                        "projects": m("flows.c_projects")},
                codes={"flags": "flag"},
                digits={"value_usd_m": 1},
                **fmt,
            )  # fmt: skip
        if name == "sector_projects":
            f = self.sector_projects.copy()
            for c in ("year_announced", "year_status"):
                # Years as years: text, never "2,018".
                f[c] = [str(int(y)) if pd.notna(y) else "" for y in f[c]]
            return format_table(
                f,
                title=m("flows.t_sector_projects"),
                columns=["status", "sector", "company", "home_country", "project", "location",
                         "amount_usd_m", "year_announced", "year_status", "flags"],
                labels={"home_country": m("flows.c_home"), "amount_usd_m": m("flows.c_amount"),
                        "year_announced": m("flows.c_announced"),
                        "year_status": m("flows.c_status_year"),
                        "project": m("flows.c_project"), "company": m("flows.c_company"),
                        "location": m("flows.c_location")},
                codes={"flags": "flag"},
                digits={"amount_usd_m": 0},
                notes=[m("flows.n_projects")],
                **fmt,
            )  # fmt: skip
        if name == "scenario_paths":
            f = self.scenario_paths
            return format_table(
                f,
                title=m("flows.t_scenario_paths"),
                columns=["series", "label", "year", "value", "growth", "basis"],
                labels={"label": m("flows.c_path"), "growth": m("flows.c_growth"),
                        "basis": m("flows.c_basis")},
                codes={"series": "measure_short"},
                units={"value": "idr_bn"},
                digits={"value": 0, "growth": 1},
                percent=["growth"],
                notes=[m("flows.n_paths", year=self.last_backtested_year), m("flows.n_nominal")],
                **fmt,
            )  # fmt: skip
        if name == "overview":
            f = self.overview().rename(
                columns={"years with data": "years_with_data", "model sample": "model_sample"}
            )
            return format_table(f, title=m("flows.t_overview"), **fmt)
        if name in ("backtest", "coverage"):
            f = self.backtest_table() if name == "backtest" else self.coverage()
            pct = [c for c in f.columns if c.startswith("coverage")]
            f = f[["series", *[c for c in f.columns if c != "series"]]]
            return format_table(
                f,
                title=m(f"flows.t_{name}"),
                codes={"series": "measure_short", "chosen": "yes_no",
                       "backtested": "yes_no"},
                units={"mape": "pct"},
                digits={"mase": 2, "mape": 1, "scale": 2, **{c: 0 for c in pct}},
                percent=pct,
                **fmt,
            )  # fmt: skip
        if name == "failures":
            return format_table(self.failures, title=m("flows.t_failures"),
                                codes={"series": "measure_short"}, **fmt)  # fmt: skip
        if name in ("forecast", "pma_usd", "real"):
            v = self.forecast_table()
            if name == "forecast":
                v = v[v["series"].isin(MEASURES) & (v["basis"] == self.settings.price_basis)]
                v = v[v["source"] != "published"]
            elif name == "pma_usd":
                v = v[v["series"] == "pma_usd"]
            else:
                v = v[(v["basis"] == "real") & (v["source"] != "published")]
            unit = ", ".join(dict.fromkeys(v["unit"])) if len(v) else ""
            extra = ["conversion"] if name == "pma_usd" else ["flag"]
            if "flag" in v:
                v = v.assign(flag=v["flag"].map({"above_history": m("flows.flag_above_history")})
                             .fillna(""))  # fmt: skip
            return format_table(
                v,
                title=m(f"flows.t_{name}", unit=unit),
                columns=["series", "year", "median", "lo_80", "hi_80", "lo_95", "hi_95",
                         "source", "backtested", "model", *extra],
                labels={"conversion": m("flows.c_conversion"), "flag": m("flows.c_flag")},
                codes={"series": "measure_short", "source": "origin", "backtested": "yes_no"},
                digits=0,
                notes=[m("flows.n_no_interval", year=self.last_backtested_year)],
                **fmt,
            )  # fmt: skip
        if name == "sectors":
            return format_table(
                self.sectors,
                title=m("flows.t_sectors"),
                columns=["label", "series", "year", "value", "origin", "flags", "status"],
                labels={"label": m("label.column.sector")},
                codes={"series": "measure_short", "origin": "origin", "flags": "flag",
                       "status": "status"},
                units={"value": "idr_bn"},
                digits={"value": 0},
                notes=[m("flows.n_nominal")],
                **fmt,
            )  # fmt: skip
        if name == "sector_forecasts":
            return format_table(
                self.sector_forecasts, title=m("flows.t_sector_forecasts"), digits=0, **fmt
            )
        if name == "scenario":
            f = self.scenario_table()
            return format_table(
                f,
                title=m("flows.t_scenario", scenario=self.scenario.name),
                columns=[c for c in f.columns if c != "unit"],
                codes={"series": "measure_short"},
                units={c: "idr_bn" for c in f.columns if "median" in c or "_80" in c},
                digits={"factor": 3, **{c: 0 for c in f.columns if "median" in c or "_80" in c}},
                notes=[m("flows.n_nominal")],
                **fmt,
            )  # fmt: skip
        if name == "targets":
            money = [c for c in self.targets.columns if c.endswith("_rp_bn") or "_80" in c]
            kinds = {"annual": m("flows.k_annual"), "annual_rpjmn": m("flows.k_annual_rpjmn"),
                     "FY_target": m("flows.k_annual")}  # fmt: skip
            shown = self.targets.assign(
                target=[
                    kinds.get(t, m("flows.k_medium_term", years=str(t).split()[-1]))
                    if str(t) not in kinds
                    else kinds[t]
                    for t in self.targets["target"]
                ]
            )
            return format_table(
                shown,
                title=m("flows.t_targets"),
                labels={"paths_meeting": m("flows.c_paths_meeting"),
                        "backtested": m("flows.c_backtested_year")},
                columns=[c for c in self.targets.columns if c != "source"],
                codes={"measure": "measure", "status": "status", "backtested": "yes_no"},
                units={c: "idr_bn" for c in money},
                digits={"p_reach": 1, **{c: 0 for c in money}},
                percent=["p_reach"],
                notes=[m("flows.n_nominal")],
                **fmt,
            )  # fmt: skip
        if name == "roadmap":
            f = self.roadmap.assign(value=self.roadmap["value"].astype(str))
            return format_table(
                f,
                title=m("flows.t_roadmap"),
                columns=["fact", "value", "unit", "year", "source_url"],
                codes={"unit": "unit_text"},
                **fmt,
            )
        if name == "shares":
            t = self.shares.table

            def cell(r: pd.Series) -> object:
                if r["status"] in ("observed", "bucket") and not pd.isna(r["share"]):
                    return 100 * r["share"]
                if r["status"] == "censored" and not pd.isna(r["share_upper"]):
                    return censored_text(100 * r["share_upper"], 1, language)
                return UNKNOWN

            wide = t.assign(cell=t.apply(cell, axis=1)).pivot(
                index="partner_iso3", columns="year", values="cell"
            )
            return format_wide(
                wide, title=m("flows.t_shares"), row_kind="partner", unit="pct", digits=1,
                **fmt,
            )  # fmt: skip
        if name == "partner_projection":
            f = self.partner_projection()
            if f.empty:
                return format_table(f, title=m("flows.t_partner_projection"), **fmt)
            cells = [
                censored_text(u, 0, language) if pd.isna(v) else v
                for v, u in zip(f["pma_rp_bn"], f["pma_rp_bn_upper"], strict=True)
            ]
            wide = f.assign(cell=cells).pivot(index="partner_iso3", columns="year", values="cell")
            wide = wide.reindex(list(dict.fromkeys(f["partner_iso3"])))
            table = format_wide(
                wide,
                title=m("flows.t_partner_projection", year=int(f["share_year"].iloc[0])),
                row_kind="partner",
                unit="idr_bn",
                notes=[m("flows.n_nominal")],
                **fmt,
            )
            table.data = f
            return table
        raise KeyError(f"FlowStudy.table: no table {name!r}")

    def show(self, name: str, language: str = "en") -> None:
        """Display one table in report 10 and write its data as CSV next to the report."""
        # forecast.csv is the full long table (write_tables); the shown extract has its own.
        csv = {"forecast": "forecast_shown"}.get(name, name)
        show(self.table(name, language), csv, report="10-investment-flows",
             empty=messages(language)("common.none_table"))  # fmt: skip

    # -- figures ----------------------------------------------------------------------
