"""Studies: one module per report, turning params and data into one result object.

Each study (``audit``, ``flows``, ``gravity``, ``ranking``, ``brief``) takes plain settings and
the shared data (ledger, partner panel) and returns a result with its settings, a
fingerprint, ``to_frame()``, ``summary()`` and the tables its report shows. Notebooks hold
narrative and calls into these modules, never model fits or data wrangling.

One interface: each study module has ``settings(params)`` (built from its settings group,
:data:`analysis.config.GROUPS`) and ``run(settings, inputs=None)`` (on the shared, cached
:func:`analysis.studies.inputs.inputs`), and its result has ``key_findings()``, ``tables()``
(``{name: DataFrame}``), ``figures()``, ``summary()`` and ``write_tables()`` (``{name:
path}``). Adding a report: a module here with these verbs, its name in :data:`STUDIES`, and
a notebook that calls ``run(settings(p), inputs(p))``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["STUDIES", "run", "study"]

#: Study name -> module (``analysis.studies.<name>``), one per report.
STUDIES: dict[str, str] = {
    "audit": "00-data-audit",
    "flows": "10-investment-flows",
    "gravity": "20-gravity",
    "ranking": "30-partner-ranking",
    "brief": "40-partner-brief",
}


def study(name: str) -> ModuleType:
    """The study module ``name`` (imported on use: studies are heavy)."""
    if name not in STUDIES:
        raise KeyError(f"no study {name!r}; studies: {', '.join(STUDIES)}")
    return importlib.import_module(f"analysis.studies.{name}")


def run(name: str, params):
    """Run study ``name`` on ``params``: its settings, the shared inputs, its result."""
    from analysis.studies.inputs import inputs

    module = study(name)
    return module.run(module.settings(params), inputs(params))
