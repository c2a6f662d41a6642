"""Hostile YAML: alias bombs, repeated keys, deep nesting, bad bytes, unsafe tags.

Every case is an error naming the file and the line (and the key where there is one), raised
by the params loader before any kernel starts, never a traceback or a hang.
"""

from __future__ import annotations

import signal
import time
import tracemalloc

import pytest

from analysis.base.safe_yaml import MAX_DEPTH, YamlError, load_yaml, load_yaml_text
from analysis.config import ParamsError, load_params

# The "billion laughs": 9 levels of 9 aliases each, 9**9 (387 million) strings if expanded.
BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
)


@pytest.fixture
def bounded():
    """Fail (instead of hanging) if a case takes more than 30 s."""

    def _timeout(signum, frame):
        raise TimeoutError("YAML loading did not finish in 30 s")

    old = signal.signal(signal.SIGALRM, _timeout)
    signal.alarm(30)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def test_billion_laughs_is_rejected_at_once_with_bounded_memory(tmp_path, bounded):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BOMB)
    tracemalloc.start()
    t0 = time.perf_counter()
    with pytest.raises(ParamsError) as info:
        load_params(bomb)
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    msg = str(info.value)
    assert "bomb.yaml" in msg and "line 2" in msg and "aliases" in msg
    assert peak < 20 * 2**20, f"peak memory {peak / 2**20:.1f} MiB while rejecting the bomb"
    print(f"alias bomb rejected in {elapsed * 1000:.1f} ms, peak {peak / 2**10:.0f} KiB")


def test_even_one_alias_is_refused_naming_its_line():
    with pytest.raises(YamlError, match=r"f\.yaml, line 3: YAML aliases \(\*p\)"):
        load_yaml_text("a: &p [SGP]\nb: 1\npartners: *p\n", "f.yaml")


def test_merge_keys_need_aliases_so_they_are_refused_too():
    with pytest.raises(YamlError, match="aliases"):
        load_yaml_text("base: &b {x: 1}\nother:\n  <<: *b\n", "f.yaml")


def test_duplicate_keys_name_both_lines(tmp_path):
    f = tmp_path / "dup.yaml"
    f.write_text("sector: textile\nstart_year: 2015\nsector: pharma\n")
    with pytest.raises(ParamsError) as info:
        load_params(f)
    msg = str(info.value)
    assert "dup.yaml" in msg and "line 3" in msg and "key 'sector'" in msg
    assert "first on line 1" in msg


def test_duplicate_keys_inside_a_nested_mapping_are_found_too():
    text = "ranking_weights:\n  ties: 1\n  market: 2\n  ties: 3\n"
    with pytest.raises(YamlError, match=r"line 4, key 'ties': key repeated \(first on line 2\)"):
        load_yaml_text(text, "w.yaml")


@pytest.mark.parametrize("style", ["flow", "block"])
def test_ten_thousand_levels_are_a_clear_error_not_a_recursion_error(style, bounded):
    if style == "flow":
        text = "x: " + "[" * 10_000 + "]" * 10_000 + "\n"
    else:
        text = "".join(" " * i + f"k{i}:\n" for i in range(2_000))
    with pytest.raises(YamlError, match=f"deeper than {MAX_DEPTH}"):
        load_yaml_text(text, "deep.yaml")


def test_nesting_up_to_the_bound_is_fine():
    text = "x: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"
    assert load_yaml_text(text, "ok.yaml") is not None


def test_latin1_file_names_line_and_column(tmp_path):
    f = tmp_path / "latin1.yaml"
    f.write_bytes("sector: textile\nscenario:\n  name: caf\u00e9\n".encode("latin-1"))
    with pytest.raises(ParamsError) as info:
        load_params(f)
    msg = str(info.value)
    assert "latin1.yaml" in msg and "line 3" in msg and "0xe9" in msg and "UTF-8" in msg


def test_utf8_with_bom_is_fine(tmp_path):
    f = tmp_path / "bom.yaml"
    f.write_bytes(b"\xef\xbb\xbfsector: pharma\n")
    assert load_params(f).sector == "pharma"


def test_binary_file_is_named(tmp_path):
    f = tmp_path / "binary.yaml"
    f.write_bytes(b"sector: textile\n\x00\x01\x02")
    with pytest.raises(ParamsError, match=r"binary\.yaml.*line 2.*NUL byte"):
        load_params(f)


def test_python_object_tag_is_refused():
    with pytest.raises(YamlError, match=r"line 1: not accepted.*python/object"):
        load_yaml_text("x: !!python/object/apply:os.system ['true']\n", "tag.yaml")


def test_directory_and_huge_files_are_refused(tmp_path):
    with pytest.raises(YamlError, match="is a folder"):
        load_yaml(tmp_path)
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# " + b"x" * (2 << 20) + b"\n")
    with pytest.raises(YamlError, match="limited to"):
        load_yaml(big)


def test_cli_reports_hostile_yaml_in_one_line(tmp_path, monkeypatch, capsys):
    import analysis.base.paths
    from analysis.cli import main

    monkeypatch.setattr(analysis.base.paths, "REPORTS", tmp_path / "r")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BOMB)
    assert main(["batch", "--set", "textile", "-f", str(bomb), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bomb.yaml, line 2" in err and "Traceback" not in err
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())


def test_control_character_is_named_with_line_and_column(tmp_path):
    # Regression (issue 24): U+001C reached PyYAML's reader and left as "internal error".
    f = tmp_path / "ctl.yaml"
    f.write_bytes(b"seed: 1\nname: a\x1cb\n")
    with pytest.raises(YamlError, match=r"ctl\.yaml, line 2: character U\+001C at column 8"):
        load_yaml(f)


@pytest.mark.parametrize("ascii_only", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_cli_random_bytes_as_params_are_one_line_naming_the_file(
    seed, ascii_only, tmp_path, monkeypatch, capsys
):
    import random

    import analysis.base.paths
    from analysis.cli import main

    monkeypatch.setattr(analysis.base.paths, "REPORTS", tmp_path / "r")
    junk = tmp_path / "junk.yaml"
    data = random.Random(seed).randbytes(4096)
    if ascii_only:  # valid UTF-8, so the control characters are what must be caught
        data = bytes(1 + b % 127 for b in data)
    junk.write_bytes(data)
    assert main(["batch", "--set", "textile", "-f", str(junk), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "junk.yaml" in err and "Traceback" not in err
    assert "internal error" not in err
