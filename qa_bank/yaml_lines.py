"""Safe YAML loading that remembers the line of every key and list entry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

# A location inside the document: keys and list indices from the root, e.g. ("items", 3, "topics").
YamlPath = tuple[str | int, ...]

# Far beyond any real bank file (the largest is ~60 KB); refusing earlier keeps a hostile or
# accidental multi-gigabyte file from exhausting memory in the parser.
MAX_YAML_BYTES = 5_000_000
# libyaml's parser is ~10x faster than the pure-Python one (the bank loads in ~0.1 s instead of
# ~1 s at app start) and is just as safe: the safe constructor decides what gets built.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlLoadError(Exception):
    """The file is not one readable YAML document; `line` is 1-based or 0 when unknown."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass
class LocatedYaml:
    """A parsed document plus the 1-based line of each key and sequence entry."""

    data: Any
    lines: dict[YamlPath, int] = field(default_factory=dict)
    duplicate_keys: list[tuple[YamlPath, int]] = field(default_factory=list)

    def line_of(self, path: YamlPath) -> int:
        """Line of `path`, or of its nearest located ancestor, or 1."""
        for end in range(len(path), 0, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return 1


def load_located_yaml(text: str) -> LocatedYaml:
    """Parse one YAML document with the safe loader and index its lines.

    Raises:
        YamlLoadError: on syntax errors, an empty text, several documents or oversized input.
    """
    if len(text) > MAX_YAML_BYTES:
        raise YamlLoadError(1, f"file is {len(text):,} characters; the limit is {MAX_YAML_BYTES:,}")
    _refuse_aliases(text)
    loader = _SAFE_LOADER(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise YamlLoadError(1, "file is empty")
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 0
        problem = error.problem or error.context or "invalid YAML"
        raise YamlLoadError(line, f"invalid YAML: {problem}") from None
    except yaml.reader.ReaderError as error:
        line = text[: error.position].count("\n") + 1
        raise YamlLoadError(line, f"invalid YAML: character {error.character!r} is not allowed ({error.reason})") from None
    except yaml.YAMLError as error:
        raise YamlLoadError(0, f"invalid YAML: {str(error).splitlines()[0]}") from None
    except RecursionError:
        raise YamlLoadError(1, "YAML nesting is too deep") from None
    finally:
        loader.dispose()
    located = LocatedYaml(data)
    _index_lines(node, (), located)
    return located


def _refuse_aliases(text: str) -> None:
    """Bank files never need aliases, and a nest of them (a "billion laughs" file) would make any
    walk over the document exponential, so `*name` is refused with its line."""
    try:
        for token in yaml.scan(text, Loader=_SAFE_LOADER):
            if isinstance(token, yaml.AliasToken):
                raise YamlLoadError(token.start_mark.line + 1, f"YAML aliases (*{token.value}) are not allowed in bank files")
    except yaml.YAMLError:
        return  # the parser reports the error itself, with its line


def _index_lines(node: yaml.Node, path: YamlPath, located: LocatedYaml) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = (*path, key)
            line = key_node.start_mark.line + 1
            if key in seen:
                located.duplicate_keys.append((child, line))
            seen.add(key)
            located.lines.setdefault(child, line)
            _index_lines(value_node, child, located)
    elif isinstance(node, yaml.SequenceNode):
        for index, item_node in enumerate(node.value):
            child = (*path, index)
            located.lines[child] = item_node.start_mark.line + 1
            _index_lines(item_node, child, located)
