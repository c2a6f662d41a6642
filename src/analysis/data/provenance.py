"""Provenance of the raw files: who published them, under what terms, and their hashes.

``data/provenance.csv`` has one row per file under ``data/raw/`` (and the shipped
examples). Loading a raw file verifies its sha256 first, so an edited or corrupted raw
file stops the run instead of silently changing results.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import pandas as pd

from analysis.base import paths
from analysis.base.errors import ProvenanceError
from analysis.base.i18n import count

__all__ = ["data_fingerprint", "provenance_table", "sha256_of", "verify_file"]

PROVENANCE_COLUMNS = (
    "file",
    "publisher",
    "source",
    "retrieved",
    "licence",
    "units",
    "sha256",
    "description",
)


def sha256_of(path: str | Path) -> str:
    """Return the hex sha256 of a file."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def provenance_table(path: str | Path | None = None) -> pd.DataFrame:
    """Read the provenance table (``data/provenance.csv``)."""
    path = Path(path) if path is not None else paths.PROVENANCE
    if not path.is_file():
        raise ProvenanceError(f"{path}: provenance table not found")
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ProvenanceError(
            f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset "
            f"{exc.start}); restore the file from version control"
        ) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "unreadable"
        raise ProvenanceError(
            f"{path}: not a readable CSV table ({first}); restore the file from version control"
        ) from None
    except OSError as exc:
        raise ProvenanceError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    missing = [c for c in PROVENANCE_COLUMNS if c not in table.columns]
    if missing:
        names = ", ".join(missing)
        what = count(len(missing), "columns_named", names=names)
        raise ProvenanceError(f"{path}: missing {what}")
    return table


@cache
def _verified(path: Path, mtime_ns: int, size: int) -> str:
    # Cached on (path, mtime, size): a file changed on disk is hashed again.
    return sha256_of(path)


def verify_file(path: str | Path, *, root: str | Path | None = None) -> str:
    """Check a data file against its provenance row and return its sha256.

    Parameters
    ----------
    path
        The file, absolute or relative to the data folder.
    root
        The data folder holding ``provenance.csv`` (default ``data/``).

    Raises
    ------
    ProvenanceError
        When the file has no provenance row or its hash differs from the recorded one.
    """
    root = Path(root) if root is not None else paths.DATA
    path = Path(path)
    full = path if path.is_absolute() else root / path
    rel = full.resolve().relative_to(root.resolve()).as_posix()
    table = provenance_table(root / "provenance.csv")
    row = table[table["file"] == rel]
    if row.empty:
        raise ProvenanceError(
            f"data/{rel}: no row in data/provenance.csv; add publisher, source, retrieved, "
            "licence, units and sha256 before using the file"
        )
    stat = full.stat()
    actual = _verified(full.resolve(), stat.st_mtime_ns, stat.st_size)
    expected = row["sha256"].iloc[0]
    if actual != expected:
        raise ProvenanceError(
            f"data/{rel}: sha256 {actual[:12]}... does not match data/provenance.csv "
            f"({expected[:12]}...). Raw files are immutable: restore the published file, or "
            "record a new version with its own provenance row"
        )
    return actual


def data_fingerprint(hashes: dict[str, str]) -> str:
    """Combine file hashes into one short fingerprint (order independent)."""
    digest = hashlib.sha256()
    for name in sorted(hashes):
        digest.update(f"{name}={hashes[name]}\n".encode())
    return digest.hexdigest()[:16]
