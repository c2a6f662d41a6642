"""The shared-results cache: hits, misses, invalidation, damage and opting out."""

from __future__ import annotations

import dataclasses

import pytest

from analysis.base.cache import cache_dir, cache_key, cached


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MITRA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("MITRA_CACHE", raising=False)


@dataclasses.dataclass(frozen=True)
class Settings:
    alpha: float = 0.1
    years: tuple[int, ...] = (2020, 2021)


def test_second_call_is_served_from_disk():
    calls = []

    def compute():
        calls.append(1)
        return {"value": 42}

    assert cached("demo", {"data": "abc", "settings": Settings()}, compute) == {"value": 42}
    assert cached("demo", {"settings": Settings(), "data": "abc"}, compute) == {"value": 42}
    assert len(calls) == 1
    assert len(list((cache_dir() / "demo").glob("*.pkl"))) == 1


def test_other_settings_or_data_miss():
    calls = []
    cached("demo", {"data": "abc", "settings": Settings()}, lambda: calls.append(1))
    cached("demo", {"data": "abc", "settings": Settings(alpha=0.2)}, lambda: calls.append(1))
    cached("demo", {"data": "abd", "settings": Settings()}, lambda: calls.append(1))
    assert len(calls) == 3


def test_key_depends_on_the_code_fingerprint(monkeypatch):
    import analysis.base.cache as c

    before = cache_key("demo", {"x": 1})
    monkeypatch.setattr(c, "code_fingerprint", lambda: "other-code")
    assert cache_key("demo", {"x": 1}) != before


def test_damaged_entry_is_recomputed_and_replaced():
    cached("demo", {"x": 1}, lambda: "first")
    (entry,) = (cache_dir() / "demo").glob("*.pkl")
    entry.write_bytes(b"\x80not a pickle")
    assert cached("demo", {"x": 1}, lambda: "again") == "again"
    assert cached("demo", {"x": 1}, lambda: "unused") == "again"


def test_cache_off_always_computes(monkeypatch):
    monkeypatch.setenv("MITRA_CACHE", "off")
    calls = []
    cached("demo", {"x": 1}, lambda: calls.append(1))
    cached("demo", {"x": 1}, lambda: calls.append(1))
    assert len(calls) == 2
    assert not cache_dir().exists()


def test_unserialisable_key_material_is_refused():
    with pytest.raises(TypeError, match="not supported"):
        cache_key("demo", {"x": object()})


def test_unwritable_cache_folder_does_not_fail_the_caller(tmp_path, monkeypatch):
    # A file where the folder should be: mkdir fails with an OSError even as root.
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    monkeypatch.setenv("MITRA_CACHE_DIR", str(blocker / "sub"))
    assert cached("demo", {"x": 1}, lambda: 7) == 7
    assert blocker.read_text() == "not a folder"


def _compute_once_in_a_process(cache: str, log: str) -> int:
    import os
    import time

    os.environ["MITRA_CACHE_DIR"] = cache
    from analysis.base.cache import cached

    def slow() -> int:
        with open(log, "a") as handle:
            handle.write(f"{os.getpid()}\n")
        time.sleep(1.0)  # long enough for the other process to arrive while this computes
        return 42

    return cached("shared", {"k": 1}, slow)


def test_processes_needing_the_same_entry_compute_it_once(tmp_path):
    # Two kernels of a batch asking for one gravity study at the same time: one computes,
    # the other waits for the lock and reads the entry.
    import multiprocessing

    log = tmp_path / "computed.log"
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        values = pool.starmap(_compute_once_in_a_process, [(str(tmp_path / "c"), str(log))] * 2)
    assert values == [42, 42]
    assert len(log.read_text().splitlines()) == 1
