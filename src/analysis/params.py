"""Parameter sets (kept for existing imports): the declaration lives in :mod:`analysis.config`.

``from analysis.params import params_from`` and friends keep working; new code imports
:mod:`analysis.config` directly.
"""

from __future__ import annotations

from analysis.base.vocab import SECTOR_FOCUS
from analysis.config import (
    Params,
    ParamsError,
    load_params,
    notebook_parameters,
    params_from,
    read_params_file,
    resolve_params_file,
    validate_params,
)

__all__ = [
    "SECTOR_FOCUS",
    "Params",
    "ParamsError",
    "load_params",
    "notebook_parameters",
    "params_from",
    "read_params_file",
    "resolve_params_file",
    "validate_params",
]
