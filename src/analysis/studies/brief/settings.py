"""The brief's settings: :class:`BriefSettings`, ``settings(params)`` and the levers shown."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from analysis.config import declared

if TYPE_CHECKING:
    from analysis.studies.gravity import GravityStudySettings
    from analysis.studies.ranking import RankingStudySettings


@dataclass(frozen=True)
class BriefSettings:
    """What a brief is about and the ranking/gravity settings it shares with reports 20/30."""

    partner: str
    sector: str
    language: str = declared("language")
    start_year: int = declared("start_year")
    end_year: int = declared("end_year")
    gravity: GravityStudySettings | None = None  # report 20's settings (default: declared)
    ranking: RankingStudySettings | None = None  # report 30's settings (default: declared)

    def __post_init__(self) -> None:
        from analysis.base.i18n import LANGUAGES
        from analysis.base.vocab import is_partner_code
        from analysis.params import SECTOR_FOCUS

        if self.language not in LANGUAGES:
            raise ValueError(f"language must be one of {LANGUAGES} (got {self.language!r})")
        if self.sector not in SECTOR_FOCUS:
            raise ValueError(f"sector must be one of {tuple(SECTOR_FOCUS)} (got {self.sector!r})")
        if not (isinstance(self.partner, str) and len(self.partner) == 3):
            raise ValueError(f"partner must be an ISO 3166 alpha-3 code (got {self.partner!r})")
        if not is_partner_code(self.partner):
            raise ValueError(f"partner {self.partner!r} is not an ISO 3166 alpha-3 code")
        from analysis.config import Params, check_partner

        check_partner(self.partner)
        # Reports 20 and 30's settings for this sector (the declared ones when not given).
        from dataclasses import replace

        from analysis.studies import gravity, ranking

        g = self.gravity or gravity.settings(Params())
        r = self.ranking or ranking.settings(Params())
        object.__setattr__(self, "gravity", replace(g, sector=self.sector))
        object.__setattr__(
            self,
            "ranking",
            replace(r, sector=self.sector, end_year=self.end_year, compare_sectors=False),
        )


def settings(params) -> BriefSettings:
    """The brief's settings from the params' ``brief`` group, with reports 20 and 30's own
    settings (:func:`analysis.studies.gravity.settings`, :func:`~.ranking.settings`)."""
    from analysis.studies import gravity, ranking

    g = params.brief
    return BriefSettings(
        partner=g.partner,
        sector=g.sector,
        language=g.language,
        start_year=g.start_year,
        end_year=g.end_year,
        gravity=gravity.settings(params),
        ranking=ranking.settings(params),
    )


#: Ranking indicators Indonesia or the partner can act on, the only ones shown as levers:
#: an agreement (concluded, ratified), investment itself, trade. Geography (distance,
#: sub-region), market size and industrial structure are not levers.
LEVERS: frozenset[str] = frozenset(
    {"agreement", "pma_in_idn", "pma_momentum", "bilateral_trade", "untapped"}
)
