"""Named errors. Every data error says where the fault is and what was expected."""

from __future__ import annotations

from pathlib import Path

__all__ = ["DataValidationError", "MitraError", "ProvenanceError"]


class MitraError(Exception):
    """Base class of every error Mitra raises on purpose."""


class DataValidationError(MitraError, ValueError):
    """A raw or imported table broke its schema.

    Parameters
    ----------
    file
        The file (or table name) holding the fault.
    problem
        What is wrong, in words.
    row
        Line number in the file as a user sees it in an editor (header = line 1), if known.
    column
        Column name, if the fault sits in one column.
    expected
        What would have been accepted.
    value
        The offending value, if any.
    """

    def __init__(
        self,
        file: str | Path,
        problem: str,
        *,
        row: int | None = None,
        column: str | None = None,
        expected: str | None = None,
        value: object = None,
    ) -> None:
        self.file = str(file)
        self.row = row
        self.column = column
        self.expected = expected
        self.value = value
        self.problem = problem
        where = self.file
        if row is not None:
            where += f", line {row}"
        if column is not None:
            where += f", column '{column}'"
        msg = f"{where}: {problem}"
        if value is not None:
            msg += f" (got {value!r})"
        if expected is not None:
            msg += f"; expected {expected}"
        super().__init__(msg)


class ProvenanceError(MitraError):
    """A raw file is missing from the provenance table or its hash does not match."""


class PipelineError(MitraError):
    """A batch could not be planned or started (bad run id, missing kernel, ...)."""
