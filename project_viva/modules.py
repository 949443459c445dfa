"""The project's modules parsed with `ast`, tolerant of syntax errors (each error is reported with
its line and the rest of the file is still analysed), and the project's own imports resolved:
`from models import *`, `from .resnet import ResNet18`, a script importing its sibling module."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from project_viva.sources import Location, Project, SourceFile

# Lines that continue the statement above them, so a top-level chunk never starts there.
_CONTINUATION = re.compile(r"^(else|elif|except|finally|case)\b|^[)\]}]")


@dataclass
class Module:
    name: str  # dotted, as an import names it: models.resnet; a notebook is named by its stem
    source: SourceFile = field(repr=False)
    tree: ast.Module = field(repr=False)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, message) of what did not parse
    _parents: dict[ast.AST, ast.AST] | None = field(default=None, repr=False)

    @property
    def path(self) -> str:
        return self.source.path

    @property
    def is_package(self) -> bool:
        return self.path.endswith("__init__.py")

    def where(self, node: ast.AST | int) -> Location:
        """The location of a line, or of a node's first line (a call inside a list: the call's own line)."""
        return self.source.where(node if isinstance(node, int) else getattr(node, "lineno", 1))

    def statement_of(self, node: ast.AST) -> ast.AST:
        """The innermost statement holding a node (the node itself if it is one)."""
        if self._parents is None:
            self._parents = {child: parent for parent in ast.walk(self.tree) for child in ast.iter_child_nodes(parent)}
        current = node
        while not isinstance(current, ast.stmt) and current in self._parents:
            current = self._parents[current]
        return current if hasattr(current, "lineno") else node

    def segment(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.source.code, node) or ast.unparse(node)


def module_name(path: str) -> str:
    parts = list(PurePosixPath(path).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts) or "__init__"


def _chunks(lines: list[str]) -> list[tuple[int, int]]:
    """(start, end) line ranges of top-level statements, by indentation alone (0-based, end excluded)."""
    starts = []
    for number, line in enumerate(lines):
        if line[:1].strip() and not line.startswith("#") and not _CONTINUATION.match(line):
            if starts and lines[starts[-1]].startswith("@") and not line.startswith("@") and number - starts[-1] <= 3:
                continue  # a decorated definition is one chunk with its decorators
            if starts and lines[number - 1].rstrip().endswith(("\\", ",", "(", "[", "{")):
                continue
            starts.append(number)
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    return list(zip(starts, starts[1:] + [len(lines)], strict=True))


def parse_tolerant(code: str) -> tuple[ast.Module, list[tuple[int, str]]]:
    """The module's AST; where it does not parse, the top-level statements that do, and the
    line and message of each one that does not."""
    try:
        return ast.parse(code), []
    except SyntaxError as error:
        first_error = (error.lineno or 1, error.msg)
    except ValueError as error:  # null bytes
        return ast.Module(body=[], type_ignores=[]), [(1, str(error))]
    lines = code.splitlines()
    body: list[ast.stmt] = []
    errors: list[tuple[int, str]] = []
    for start, end in _chunks(lines):
        text = "\n".join(lines[start:end])
        try:
            chunk = ast.parse(text)
        except SyntaxError as error:
            errors.append((start + (error.lineno or 1), error.msg))
            continue
        except ValueError as error:
            errors.append((start + 1, str(error)))
            continue
        ast.increment_lineno(chunk, start)
        body.extend(chunk.body)
    return ast.Module(body=body, type_ignores=[]), errors or [first_error]


@dataclass
class ProjectIndex:
    """Every module of the project by dotted name, and how one module's import finds another."""

    project: Project
    modules: dict[str, Module] = field(default_factory=dict)

    @classmethod
    def build(cls, project: Project) -> ProjectIndex:
        index = cls(project)
        for path, source in project.sources.items():
            tree, errors = parse_tolerant(source.code)
            name = module_name(path)
            index.modules[name] = Module(name, source, tree, errors)
        return index

    def by_path(self, path: str) -> Module:
        return next(m for m in self.modules.values() if m.path == path)

    def resolve(self, name: str, importer: Module, level: int = 0) -> Module | None:
        """The project module `import name` (with `level` leading dots) means from `importer`:
        relative to the importer's package for relative imports; otherwise from the project root,
        then from the importer's own folder (a script run from its folder imports its siblings)."""
        package = importer.name.split(".") if importer.is_package else importer.name.split(".")[:-1]
        if level:
            base = package[: len(package) - (level - 1)] if level > 1 else package
            return self.modules.get(".".join([*base, *([name] if name else [])]))
        candidates = [name, ".".join([*package, name])]
        # a script in a subfolder run as `python sub/train.py` sees sub/ as its root
        return next((self.modules[c] for c in candidates if c in self.modules), None)
