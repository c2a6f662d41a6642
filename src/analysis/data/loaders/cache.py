"""A file cache of raw responses with a provenance table, committed atomically.

Layout (under ``data/cache/`` by default, ignored by git; set ``MITRA_FETCH_CACHE`` to move it)::

    data/cache/
        provenance.csv            one row per cached response (the table below)
        wdi/<sha256>.json         the response body, byte for byte, named by its hash
        imf/<sha256>.xml
        comtrade/<sha256>.json

``MITRA_FETCH_CACHE=off`` switches the cache off: nothing is read (the partner panel then
uses the committed snapshot alone) and nothing can be written.

``provenance.csv`` columns: ``source`` (loader key), ``dataset``, ``query`` (in words),
``url``, ``file`` (relative to the cache root), ``retrieved`` (UTC), ``sha256``, ``bytes``,
``meta`` (JSON: small facts the parser needs).

Why this shape: bodies are content-addressed, so writing a new body never overwrites a file
the current provenance points to; the provenance table is then replaced in one
``os.replace``, the single commit point. A fetch that fails part-way never reaches that
point, so the cache stays exactly as it was (and the committed snapshot under ``data/raw``
is never written by the loaders at all). Bodies no longer listed are removed only after the
commit. Every read checks the sha256 against the provenance.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.base import paths
from analysis.base.errors import ProvenanceError
from analysis.base.i18n import count
from analysis.data.loaders.transport import RawResponse

__all__ = [
    "CACHE_COLUMNS",
    "CACHE_ENV",
    "CACHE_OFF",
    "CachedResponse",
    "FetchCache",
    "default_cache_dir",
]

#: Environment variable that moves the cache.
CACHE_ENV = "MITRA_FETCH_CACHE"

CACHE_COLUMNS: tuple[str, ...] = (
    "source",
    "dataset",
    "query",
    "url",
    "file",
    "retrieved",
    "sha256",
    "bytes",
    "meta",
)


#: Value of :data:`CACHE_ENV` that switches the cache off.
CACHE_OFF = "off"


def default_cache_dir() -> Path | None:
    """Return ``$MITRA_FETCH_CACHE`` if set, else ``data/cache``; ``None`` if it is ``off``."""
    env = os.environ.get(CACHE_ENV)
    if env == CACHE_OFF:
        return None
    return Path(env).expanduser().resolve() if env else paths.DATA / "cache"


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class CachedResponse:
    """One cached body with its provenance row (what the parsers read back)."""

    source: str
    dataset: str
    query: str
    url: str
    retrieved: str
    sha256: str
    content: bytes
    meta: dict


class FetchCache:
    """The cache folder: read entries, and commit a source's new responses atomically.

    Parameters
    ----------
    root
        Cache folder (default :func:`default_cache_dir`). Nothing is created until a commit.
        With no ``root`` and ``MITRA_FETCH_CACHE=off`` the cache is off: it reads as empty
        and refuses to commit.
    """

    def __init__(self, root: str | Path | None = None) -> None:
        folder = Path(root) if root is not None else default_cache_dir()
        self.off = folder is None
        self.root = folder if folder is not None else Path(os.devnull)

    @property
    def provenance_path(self) -> Path:
        """Path of ``provenance.csv``."""
        return self.root / "provenance.csv"

    def provenance(self) -> pd.DataFrame:
        """Return the provenance table (empty, with its columns, if nothing is cached)."""
        if self.off or not self.provenance_path.exists():
            return pd.DataFrame(columns=list(CACHE_COLUMNS))
        frame = pd.read_csv(self.provenance_path, dtype=str, keep_default_na=False)
        missing = [c for c in CACHE_COLUMNS if c not in frame.columns]
        if missing:
            raise ProvenanceError(
                f"{self.provenance_path}: missing "
                f"{count(len(missing), 'columns_named', names=missing)}; expected {CACHE_COLUMNS}"
            )
        return frame[list(CACHE_COLUMNS)]

    def commit(self, source: str, responses: Iterable[tuple[str, RawResponse]]) -> pd.DataFrame:
        """Replace every cached response of ``source`` by ``responses`` in one step.

        Parameters
        ----------
        source
            Loader key (``"wdi"``, ``"imf"``, ``"comtrade"``).
        responses
            ``(dataset, response)`` pairs, all already parsed successfully by the caller.

        Returns
        -------
        DataFrame
            The new provenance rows of ``source``.

        Raises
        ------
        OSError
            The cache is off, or the folder cannot be written (nothing is changed).
        """
        if self.off:
            raise OSError(f"the fetch cache is off ({CACHE_ENV}={CACHE_OFF})")
        old = self.provenance()
        rows = []
        written: list[Path] = []
        try:
            for dataset, resp in responses:
                digest = hashlib.sha256(resp.content).hexdigest()
                rel = f"{source}/{digest}{resp.suffix}"
                target = self.root / rel
                if not target.exists():
                    _atomic_write(target, resp.content)
                    written.append(target)
                rows.append(
                    {
                        "source": source,
                        "dataset": dataset,
                        "query": resp.query,
                        "url": resp.url,
                        "file": rel,
                        "retrieved": resp.retrieved,
                        "sha256": digest,
                        "bytes": str(len(resp.content)),
                        "meta": json.dumps(resp.meta, sort_keys=True),
                    }
                )
            new = pd.DataFrame(rows, columns=list(CACHE_COLUMNS))
            kept = old[old["source"] != source]
            table = pd.concat([kept, new], ignore_index=True) if len(kept) else new
            buf = io.StringIO()
            table.to_csv(buf, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
            _atomic_write(self.provenance_path, buf.getvalue().encode())  # the commit point
        except BaseException:
            # Not committed: remove the bodies this call added, so the folder is as before.
            for path in written:
                path.unlink(missing_ok=True)
            raise
        self._remove_unlisted(source, set(new["file"]))
        return new

    def _remove_unlisted(self, source: str, listed: set[str]) -> None:
        folder = self.root / source
        if not folder.is_dir():
            return
        for path in folder.iterdir():
            rel = f"{source}/{path.name}"
            if path.is_file() and not path.name.startswith(".") and rel not in listed:
                path.unlink(missing_ok=True)

    def responses(self, source: str) -> list[CachedResponse]:
        """Return the cached responses of ``source``, each checked against its sha256.

        Raises
        ------
        ProvenanceError
            A listed file is missing or its content no longer matches the recorded hash.
        """
        table = self.provenance()
        out = []
        for i, row in table[table["source"] == source].iterrows():
            path = self.root / row["file"]
            where = f"{self.provenance_path}, line {int(i) + 2}"
            if not path.is_file():
                raise ProvenanceError(f"{where}: cached file {row['file']} is missing; refetch")
            content = path.read_bytes()
            digest = hashlib.sha256(content).hexdigest()
            if digest != row["sha256"]:
                raise ProvenanceError(
                    f"{where}: {row['file']} has sha256 {digest}, expected {row['sha256']} "
                    "(the cached file was changed); refetch"
                )
            out.append(
                CachedResponse(
                    source=source,
                    dataset=row["dataset"],
                    query=row["query"],
                    url=row["url"],
                    retrieved=row["retrieved"],
                    sha256=digest,
                    content=content,
                    meta=json.loads(row["meta"] or "{}"),
                )
            )
        return out
