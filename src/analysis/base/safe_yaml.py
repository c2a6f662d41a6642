"""Read a YAML parameter file defensively: no aliases, no repeated keys, bounded depth and size.

Params files come from users (a ministry's analyst, a CI job, a colleague's e-mail), so the
loader assumes nothing about them. On top of PyYAML's ``SafeLoader`` (which already refuses
``!!python/object`` and other constructor tags) it rejects:

- **aliases** (``*name``): a parameter file never needs them, and an alias "bomb" (the
  billion-laughs pattern) expands to gigabytes in any code that walks the result. They are
  refused when the parser meets the first one, before anything is built;
- **repeated keys** in one mapping (YAML says keys are unique; PyYAML silently keeps the last),
  naming both lines;
- **nesting deeper than** :data:`MAX_DEPTH` (a 10 000-level file otherwise ends in a
  ``RecursionError``);
- **files larger than** :data:`MAX_BYTES`, **bytes that are not UTF-8** and **NUL bytes**,
  naming the line and column of the first bad byte.

Every error is a :class:`YamlError` naming the file, the line and, where there is one, the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode
from yaml.reader import Reader

from analysis.base.errors import MitraError

__all__ = ["MAX_BYTES", "MAX_DEPTH", "YamlError", "load_yaml", "load_yaml_text"]

#: Deepest nesting of mappings and lists accepted (a scenario needs 4).
MAX_DEPTH = 32
#: Largest params file accepted, in bytes (the shipped ones are below 3 kB).
MAX_BYTES = 1 << 20


class YamlError(MitraError, ValueError):
    """A YAML file that cannot be read safely; the message names file, line and key."""

    def __init__(
        self, source: str, problem: str, *, line: int | None = None, key: str | None = None
    ) -> None:
        self.source = source
        self.line = line
        self.key = key
        self.problem = problem
        where = source
        if line is not None:
            where += f", line {line}"
        if key is not None:
            where += f", key '{key}'"
        super().__init__(f"{where}: {problem}")


class _GuardedLoader(yaml.SafeLoader):
    """``SafeLoader`` that refuses aliases, repeated keys and deep nesting."""

    source = "<yaml>"

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: object) -> Node | None:
        if self.check_event(AliasEvent):
            event = self.peek_event()
            raise YamlError(
                self.source,
                f"YAML aliases (*{event.anchor}) are not accepted in parameter files; write "
                "the value out in full",
                line=event.start_mark.line + 1,
            )
        self._depth += 1
        if self._depth > MAX_DEPTH:
            event = self.peek_event()
            raise YamlError(
                self.source,
                f"nesting deeper than {MAX_DEPTH} levels",
                line=event.start_mark.line + 1,
            )
        try:
            return super().compose_node(parent, index)  # type: ignore[arg-type]
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode):
                raise YamlError(
                    self.source,
                    "a key must be plain text, not a list or mapping",
                    line=key_node.start_mark.line + 1,
                )
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            try:
                first = seen.get(key)
            except TypeError:  # pragma: no cover - scalars are hashable
                first = None
            if first is not None:
                raise YamlError(
                    self.source,
                    f"key repeated (first on line {first}); each key may appear once",
                    line=line,
                    key=str(key),
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _decode(data: bytes, source: str) -> str:
    if len(data) > MAX_BYTES:
        raise YamlError(
            source, f"file is {len(data):,} bytes; parameter files are limited to {MAX_BYTES:,}"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise YamlError(
            source,
            f"byte 0x{data[exc.start]:02x} at column {column} is not UTF-8 (a binary file, or "
            "another encoding?); save the file as UTF-8 text (e.g. 'Save as... UTF-8')",
            line=line,
        ) from None
    if "\x00" in text:
        pos = text.index("\x00")
        raise YamlError(
            source,
            "NUL byte: this looks like a binary file, not YAML",
            line=text.count("\n", 0, pos) + 1,
        )
    return text


#: Characters YAML does not allow in a document (the reader's own rule, YAML 1.1 5.1).
_NON_PRINTABLE = Reader.NON_PRINTABLE


def _check_printable(text: str, source: str) -> None:
    """Refuse text with characters YAML cannot hold (binary data), naming line and column."""
    bad = _NON_PRINTABLE.search(text)
    if bad:
        pos = bad.start()
        line = text.count("\n", 0, pos) + 1
        column = pos - (text.rfind("\n", 0, pos) + 1) + 1
        raise YamlError(
            source,
            f"character U+{ord(bad.group()):04X} at column {column} is not text: this looks "
            "like a binary file, not YAML",
            line=line,
        )


def load_yaml_text(text: str, source: str = "<yaml>") -> Any:
    """Parse YAML text with the guards of this module; return the Python value."""
    _check_printable(text, source)
    loader = _GuardedLoader(text)
    loader.source = source
    try:
        return loader.get_single_data()
    except YamlError:
        raise
    except (ConstructorError, ComposerError) as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YamlError(
            source,
            f"not accepted: {exc.problem or exc.context}",
            line=mark.line + 1 if mark else None,
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlError(
            source, f"not valid YAML: {problem}", line=mark.line + 1 if mark else None
        ) from None
    except RecursionError:  # pragma: no cover - the depth guard fires first
        raise YamlError(source, f"nesting deeper than {MAX_DEPTH} levels") from None
    finally:
        loader.dispose()


def load_yaml(path: str | Path, source: str | None = None) -> Any:
    """Read and parse a YAML file safely.

    Parameters
    ----------
    path
        The file.
    source
        Name used in messages (default: the path as given).

    Raises
    ------
    YamlError
        Missing or unreadable file, too large, not UTF-8, binary, invalid YAML, aliases,
        repeated keys, too deep; naming the file, the line and the key where known.
    """
    path = Path(path)
    source = source or str(path)
    if path.is_dir():
        raise YamlError(source, "is a folder, not a YAML file")
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise YamlError(source, "file not found") from None
    except OSError as exc:
        raise YamlError(source, f"cannot be read ({exc.strerror or exc})") from None
    return load_yaml_text(_decode(data, source), source)
