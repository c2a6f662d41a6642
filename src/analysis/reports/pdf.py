"""Reports as PDF: print an HTML report with headless Chromium (its print style sheet, A4).

The briefs are handed to a delegation on paper, so the batch prints each one
(:func:`print_pdf`); the page count is read back from the PDF (:func:`pdf_pages`) so a test
can hold a brief to two A4 pages plus its appendix. When no Chromium is installed the
batch writes no PDF and says so in the manifest and the index (:data:`NO_RENDERER`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = ["NO_RENDERER", "chromium", "pdf_pages", "print_pdf"]

#: Candidate executables, in order (``MITRA_CHROMIUM`` overrides them).
CHROMIUM_NAMES: tuple[str, ...] = (
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "chrome",
)
#: What the manifest and index say when no PDF could be written for want of a renderer.
NO_RENDERER = "no PDF: Chromium is not installed (install chromium, or set MITRA_CHROMIUM)"


def chromium() -> str | None:
    """Path of a headless-capable Chromium, or None when none is installed."""
    env = os.environ.get("MITRA_CHROMIUM")
    if env:
        return env if Path(env).is_file() or shutil.which(env) else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def print_pdf(html_path: Path, pdf_path: Path, *, timeout: float = 120) -> Path:
    """Print ``html_path`` to ``pdf_path`` with headless Chromium (A4, no header/footer).

    Raises
    ------
    FileNotFoundError
        When no Chromium is installed (:data:`NO_RENDERER`).
    RuntimeError
        When Chromium fails or writes no PDF (its last error lines in the message).
    """
    exe = chromium()
    if exe is None:
        raise FileNotFoundError(NO_RENDERER)
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path)
    tmp = pdf_path.with_name(f".{pdf_path.name}.tmp-{os.getpid()}")
    with tempfile.TemporaryDirectory(prefix="mitra-chromium-") as profile:
        cmd = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            "--no-first-run",
            "--disable-extensions",
            f"--user-data-dir={profile}",
            f"--print-to-pdf={tmp}",
            html_path.as_uri(),
        ]
        try:
            run = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            tmp.unlink(missing_ok=True)
            raise RuntimeError(
                f"Chromium did not print {html_path.name} in {timeout:.0f} s"
            ) from exc
    if run.returncode != 0 or not tmp.is_file() or tmp.stat().st_size == 0:
        tmp.unlink(missing_ok=True)
        tail = " ".join((run.stderr or "").strip().splitlines()[-3:])
        raise RuntimeError(f"Chromium could not print {html_path.name}: {tail or run.returncode}")
    os.replace(tmp, pdf_path)
    return pdf_path


_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")
_COUNT = re.compile(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)|/Count\s+(\d+)[^>]*?/Type\s*/Pages\b")


def pdf_pages(path: Path) -> int:
    """Number of pages of a PDF (its page tree's ``/Count``, else its page objects).

    ``pdfinfo`` (poppler) is used when installed; else the PDF's own page tree is read,
    which works for Chromium's uncompressed page dictionaries.
    """
    path = Path(path)
    exe = shutil.which("pdfinfo")
    if exe:
        out = subprocess.run([exe, str(path)], capture_output=True, text=True, timeout=60)
        m = re.search(r"^Pages:\s+(\d+)", out.stdout, re.M)
        if m:
            return int(m.group(1))
    data = path.read_bytes()
    counts = [int(a or b) for a, b in _COUNT.findall(data)]
    if counts:
        return max(counts)
    n = len(_PAGE.findall(data))
    if n == 0:
        raise ValueError(f"{path}: no pages found (not a PDF, or its page tree is compressed)")
    return n
