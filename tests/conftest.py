"""Shared fixtures. Tests never touch the network."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import settings

# `make test` (and CI, and a bare `pytest`) replays the same examples on every run: derandomised,
# with no example database, so a property test fails only when the code changed, never because
# a new random draw found an old edge. `make fuzz` loads the "fuzz" profile instead: fresh
# random draws each round, failures saved in .hypothesis/ and replayed first next time. An edge
# fuzzing finds becomes a regression test (an explicit example) in the derandomised suite.
settings.register_profile("replay", derandomize=True, database=None, print_blob=True)
settings.register_profile("fuzz", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("MITRA_HYPOTHESIS_PROFILE", "replay"))

os.environ.setdefault("MPLBACKEND", "Agg")
# Tests never read values a developer downloaded with `mitra data fetch` (data/cache/): the
# partner panel would prefer them over the committed snapshot. Loader tests pass a cache.
os.environ["MITRA_FETCH_CACHE"] = "off"
# One shared-results cache for the whole run (analysis.base.cache), new for each run: every
# test, batch kernel and notebook of the run reads what another computed with the same code,
# data and settings, as a user's batches do; tests that monkeypatch `paths.REPORTS` no longer
# start from an empty cache; nothing from a developer's own runs (reports/.cache) is read.
# Set here, at import, so pytest-xdist's workers (started later) inherit it; tests of the
# cache itself point it at their own folder.
if "MITRA_TEST_CACHE_DIR" not in os.environ:
    import tempfile

    os.environ["MITRA_TEST_CACHE_DIR"] = tempfile.mkdtemp(prefix="mitra-test-cache-")
os.environ["MITRA_CACHE_DIR"] = os.environ["MITRA_TEST_CACHE_DIR"]

ROOT = Path(__file__).resolve().parents[1]
#: Reference datasets for validation live beside the checkout, never inside it.
SHARED_REFERENCE = ROOT.parent / "shared" / "reference"


@pytest.fixture(scope="session")
def ledger():
    """The ledger built from the shipped raw data with default settings."""
    from analysis.data import build_ledger

    return build_ledger()


#: Reports of the shared CI batch besides the default notebooks x sectors: the Germany brief
#: for chemicals in both languages (the documents and browser tests read them).
CI_BRIEFS = ("en", "id")


@pytest.fixture(scope="session")
def ci_batch(tmp_path_factory):
    """The default batch with ``params/ci.yaml`` layered last (every default notebook for every
    sector), plus the Germany chemical brief in English and Indonesian: run once per session
    and shared by the pipeline and documents tests (each kernel start costs seconds).

    Tests that use it are grouped on one worker under pytest-xdist (``xdist_group``), so the
    batch runs once even when the suite runs in parallel.
    """
    from analysis.reports import BRIEF_NOTEBOOK, DEFAULT_SETS, Job, plan_batch, run_batch

    reports = tmp_path_factory.mktemp("reports")
    jobs = plan_batch(sets=DEFAULT_SETS, extra_files=["params/ci.yaml"])
    chemical_ci = ("params/base.yaml", "params/chemical.yaml", "params/ci.yaml")
    for lang in CI_BRIEFS:
        jobs.append(
            Job(
                BRIEF_NOTEBOOK,
                chemical_ci,
                f"40-partner-brief--chemical-ci-deu-{lang}",
                overrides={"partner": "DEU", "language": lang},
            )
        )
    # A generous start-up timeout: on a loaded 2-core machine kernels can be slow to answer.
    return run_batch(
        jobs, run_id="ci-a", reports_dir=reports, workers=2, progress=False, start_timeout=180
    )


def pytest_configure(config) -> None:
    # Registered here too, so --strict-markers accepts it when pytest-xdist is absent.
    config.addinivalue_line("markers", "xdist_group(name): run these tests on one xdist worker")
    # A suite started as a background job (`make test &` in a script) inherits an ignored
    # SIGINT, and so would every `mitra` the signal tests start: they need an interruptible
    # process, as in a terminal. (Runs in each xdist worker too.)
    import signal

    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups from the marks
def pytest_collection_modifyitems(config, items) -> None:
    """Tests that share a session batch run on one worker (``--dist loadgroup``), and so do
    the cells of each notebook nbval checks (they run in order in one kernel).

    The notebooks go first: each is one long unit (the gravity report computes its study at
    the declared, full-size settings), and long units started last would leave a worker
    idle at the end of the run.
    """
    notebooks = []
    for item in items:
        path = item.nodeid.split("::")[0]
        if path.endswith(".ipynb"):
            item.add_marker(pytest.mark.xdist_group(f"nbval-{path}"))
            notebooks.append(item)
        elif "ci_batch" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("ci_batch"))
    if notebooks:
        others = [item for item in items if not item.nodeid.split("::")[0].endswith(".ipynb")]
        items[:] = notebooks + others


@pytest.fixture(autouse=True)
def _signal_handlers_restored():
    """Each test leaves the worker's SIGINT/SIGTERM handlers as it found them.

    A handler left at SIG_IGN is inherited by every process a later test starts (``mitra``
    then ignores Ctrl-C while it plans): an order-dependent failure far from its cause. The
    handlers are put back either way, and the test that changed them fails by name.
    """
    import signal

    watched = (signal.SIGINT, signal.SIGTERM)
    before = {sig: signal.getsignal(sig) for sig in watched}
    yield
    after = {sig: signal.getsignal(sig) for sig in watched}
    changed = {sig: h for sig, h in after.items() if h != before[sig]}
    for sig in changed:
        signal.signal(sig, before[sig])
    assert not changed, f"the test changed signal handlers: {changed} (were {before})"


@pytest.fixture(scope="session")
def shared_reference() -> Path:
    """Path of ../shared/reference; skips the test when it is absent (as on users' machines)."""
    if not SHARED_REFERENCE.is_dir():
        pytest.skip(f"reference data not available at {SHARED_REFERENCE}")
    return SHARED_REFERENCE


# --- structural checks of exported HTML (used by the export and pipeline tests) ---------------

_EXTERNAL_RESOURCE = re.compile(
    r"<(script|link|img|iframe|source|video|audio)\b[^>]*\b(src|href)\s*=\s*[\"']?"
    r"(https?:)?//",
    re.I,
)
_CELL = re.compile(r"<t[dh]\b[^>]*>(.*?)</t[dh]>", re.S | re.I)


def assert_report_html(text: str, name: str = "report") -> None:
    """A report a ministry can circulate: self-contained, titled, no traceback, no raw NaN.

    No script, style sheet, image or frame may load from another host (the report must open
    on an air-gapped network); ``@import`` and ``url(http...)`` in styles count too.
    """
    assert not _EXTERNAL_RESOURCE.search(text), f"{name}: loads a resource from another host"
    assert not re.search(r"@import|url\(\s*[\"']?(https?:)?//", text), f"{name}: external CSS"
    title = re.search(r"<title>(.*?)</title>", text, re.S)
    assert title and title.group(1).strip() not in ("", "Notebook"), f"{name}: no real <title>"
    assert "Traceback" not in text, f"{name}: a traceback reached the report"
    assert "@media print" in text, f"{name}: no print style sheet"
    ids = set(re.findall(r"""\bid=["']([^"']+)["']""", text))
    for target in re.findall(r"""href=["']#([^"']+)["']""", text):
        assert target in ids, f"{name}: link #{target} points at no section"
    for cell in _CELL.findall(text):
        plain = re.sub(r"<[^>]+>", "", cell).strip()
        assert plain not in ("nan", "NaN", "<NA>", "None", "NaT"), (
            f"{name}: raw {plain} in a table"
        )


def pytest_unconfigure(config) -> None:
    # The run's shared-results cache goes with the run (the process that made it removes it;
    # pytest-xdist's workers leave it to the controller).
    if not hasattr(config, "workerinput"):
        import shutil

        shutil.rmtree(os.environ.get("MITRA_TEST_CACHE_DIR", ""), ignore_errors=True)
