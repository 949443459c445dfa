"""A learner's project as the analyser reads it: Python files, notebooks (code cells in order,
saved outputs ignored) and JSON/YAML configs, from a file, a folder or a zip, with limits that
refuse a zip bomb or an oversized upload in one line before anything is unpacked."""

from __future__ import annotations

import io
import json
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

CODE_SUFFIXES = (".py", ".ipynb")
CONFIG_SUFFIXES = (".json", ".yaml", ".yml")
SKIPPED_DIRS = {"__pycache__", "__MACOSX", ".git", ".venv", "venv", "env", "site-packages", "node_modules", ".ipynb_checkpoints", "wandb"}


@dataclass(frozen=True)
class InputLimits:
    upload_mb: float = 20.0  # the file as uploaded (a zip, a notebook, a script)
    unpacked_mb: float = 40.0  # every member of a zip together, as its directory declares them
    file_mb: float = 20.0  # one code or config file we read (a notebook with its saved outputs)
    files: int = 3000  # members of a zip or files of a folder
    ratio: float = 100.0  # uncompressed / compressed size of one member: beyond it, a zip bomb


class ProjectInputError(ValueError):
    """The upload cannot be read at all; the message is one line naming the file and the reason."""


@dataclass(frozen=True)
class Location:
    """Where something is: a file and line; in a notebook, the cell (0-based, every cell counted)
    and the line within it (1-based)."""

    file: str
    line: int
    cell: int | None = None
    code_line: int | None = None  # in a notebook: the line in its code cells joined, each followed by a blank line

    def to_dict(self) -> dict[str, Any]:
        if self.cell is None:
            return {"file": self.file, "line": self.line}
        return {"file": self.file, "line": self.line, "cell": self.cell, "code_line": self.code_line}

    def __str__(self) -> str:
        return f"{self.file} cell {self.cell} line {self.line}" if self.cell is not None else f"{self.file}:{self.line}"


@dataclass(frozen=True)
class SourceFile:
    """One module of the project. A notebook's code cells are joined into `code`, and `cells`
    maps each line of it (0-based) back to (cell index, line in the cell)."""

    path: str  # relative, '/'-separated
    code: str
    cells: tuple[tuple[int, int], ...] = ()

    @property
    def is_notebook(self) -> bool:
        return self.path.endswith(".ipynb")

    def where(self, line: int) -> Location:
        if not self.is_notebook:
            return Location(self.path, line)
        if not self.cells:
            return Location(self.path, line, 0, line)
        cell, in_cell = self.cells[min(max(line, 1), len(self.cells)) - 1]
        return Location(self.path, in_cell, cell, line)

    def line_text(self, line: int) -> str:
        lines = self.code.splitlines()
        return lines[line - 1] if 0 < line <= len(lines) else ""


@dataclass
class Project:
    name: str
    sources: dict[str, SourceFile] = field(default_factory=dict)
    configs: dict[str, Any] = field(default_factory=dict)  # parsed JSON/YAML by relative path
    problems: list[str] = field(default_factory=list)  # one line each: a file skipped and why


# -- notebooks ---------------------------------------------------------------------------------

_CELL_MAGICS_PYTHON = {"time", "timeit", "capture", "prun"}  # the cell below them is still Python


def notebook_code(text: str, name: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The code cells of a notebook in order, IPython magics and shell lines blanked (to `pass`,
    so a block stays a block), with the line map back to cells. Raises ProjectInputError."""
    import nbformat

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # old notebooks without cell ids are fine to read
            notebook = nbformat.reads(text, as_version=4)
    except Exception as error:  # nbformat raises several kinds (NotJSONError, ValueError, KeyError)
        raise ProjectInputError(f"{name}: not a readable notebook ({_first_line(error)})") from None
    lines: list[str] = []
    cells: list[tuple[int, int]] = []
    for index, cell in enumerate(notebook.cells):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source") or ""
        cell_lines = source.splitlines() or [""]
        first = cell_lines[0].strip()
        if first.startswith("%%") and first[2:].split(" ")[0] not in _CELL_MAGICS_PYTHON:
            cell_lines = ["" for _ in cell_lines]  # %%bash, %%writefile...: not Python
        for number, line in enumerate(cell_lines, start=1):
            stripped = line.lstrip()
            if stripped.startswith(("%", "!")) or re.match(r"^\w+\s*=\s*!", stripped):
                line = line[: len(line) - len(stripped)] + "pass"
            lines.append(line)
            cells.append((index, number))
        lines.append("")  # a cell ends its last statement
        cells.append((index, len(cell_lines) + 1))
    return "\n".join(lines) + "\n", tuple(cells)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:160] if text else type(error).__name__


# -- reading one file --------------------------------------------------------------------------


def _add_file(project: Project, path: str, data: bytes, limits: InputLimits) -> None:
    """Decode and file one member; problems become lines of project.problems, never exceptions."""
    if len(data) > limits.file_mb * 2**20:
        project.problems.append(f"{path}: skipped, {len(data) / 2**20:.1f} MB is over the {limits.file_mb:g} MB limit for one file")
        return
    text = data.decode("utf-8", errors="replace")
    if path.endswith(".py"):
        project.sources[path] = SourceFile(path, text)
    elif path.endswith(".ipynb"):
        try:
            code, cells = notebook_code(text, path)
        except ProjectInputError as error:
            project.problems.append(str(error))
            return
        project.sources[path] = SourceFile(path, code, cells)
    else:
        try:
            project.configs[path] = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
        except (ValueError, yaml.YAMLError) as error:
            line = getattr(getattr(error, "problem_mark", None), "line", None)
            line = line + 1 if line is not None else getattr(error, "lineno", None)
            project.problems.append(f"{path}{f':{line}' if line else ''}: config not readable ({_first_line(error)})")


def _wanted(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return path.endswith(CODE_SUFFIXES + CONFIG_SUFFIXES) and not any(p in SKIPPED_DIRS or p.startswith(".") for p in parts)


def _safe_member(name: str) -> str | None:
    """A zip member's path, relative and inside the project, or None (absolute, '..', empty)."""
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or not path.parts:
        return None
    return str(path)


def _strip_common_folder(paths: list[str]) -> str:
    """The single top folder every member sits in ('' if none): a zipped folder's own name."""
    tops = {PurePosixPath(p).parts[0] for p in paths if len(PurePosixPath(p).parts) > 1}
    flat = [p for p in paths if len(PurePosixPath(p).parts) == 1]
    return f"{tops.pop()}/" if len(tops) == 1 and not flat else ""


# -- the three kinds of upload -----------------------------------------------------------------


def load_zip(data: bytes, name: str, limits: InputLimits = InputLimits()) -> Project:
    """A zip of a project, checked from its directory before any member is read: too many
    members, too much declared data or one member compressed beyond `ratio` refuses it."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ProjectInputError(f"{name}: not a readable zip ({_first_line(error)})") from None
    if len(infos) > limits.files:
        raise ProjectInputError(f"{name}: refused, {len(infos)} files is over the limit of {limits.files}")
    declared = sum(info.file_size for info in infos)
    if declared > limits.unpacked_mb * 2**20:
        raise ProjectInputError(f"{name}: refused, it unpacks to {declared / 2**20:.0f} MB (limit {limits.unpacked_mb:g} MB)")
    for info in infos:
        if info.file_size > 2**20 and info.file_size > limits.ratio * max(info.compress_size, 1):
            ratio = info.file_size / max(info.compress_size, 1)
            raise ProjectInputError(f"{name}: refused, {info.filename} is compressed {ratio:.0f}:1 (a zip bomb?)")
    project = Project(Path(name).stem)
    members = {safe: info for info in infos if (safe := _safe_member(info.filename))}
    unsafe = len(infos) - len(members)
    if unsafe:
        project.problems.append(f"{name}: {unsafe} member(s) with absolute or '..' paths skipped")
    prefix = _strip_common_folder(list(members))
    for path, info in sorted(members.items()):
        relative = path[len(prefix) :]
        if not _wanted(relative):
            continue
        with archive.open(info) as handle:
            content = handle.read(int(limits.file_mb * 2**20) + 1)  # never more than the limit, whatever the header says
        _add_file(project, relative, content, limits)
    return project


def load_folder(folder: Path, limits: InputLimits = InputLimits()) -> Project:
    project = Project(folder.name)
    paths = sorted(p for p in folder.rglob("*") if p.is_file() and _wanted(p.relative_to(folder).as_posix()))
    if len(paths) > limits.files:
        raise ProjectInputError(f"{folder}: refused, {len(paths)} files is over the limit of {limits.files}")
    for path in paths:
        if path.is_symlink():
            project.problems.append(f"{path.relative_to(folder).as_posix()}: skipped, a symbolic link")
            continue
        _add_file(project, path.relative_to(folder).as_posix(), path.read_bytes(), limits)
    return project


def load_upload(name: str, data: bytes, limits: InputLimits = InputLimits()) -> Project:
    """One uploaded file: a .py, a .ipynb or a .zip. Raises ProjectInputError (one line)."""
    if len(data) > limits.upload_mb * 2**20:
        raise ProjectInputError(f"{name}: refused, {len(data) / 2**20:.1f} MB is over the {limits.upload_mb:g} MB upload limit")
    base = PurePosixPath(name.replace("\\", "/")).name
    if base.endswith(".zip"):
        project = load_zip(data, base, limits)
    elif base.endswith(CODE_SUFFIXES):
        project = Project(Path(base).stem)
        if base.endswith(".ipynb"):
            code, cells = notebook_code(data.decode("utf-8", errors="replace"), base)  # a broken notebook refuses the upload
            project.sources[base] = SourceFile(base, code, cells)
        else:
            _add_file(project, base, data, limits)
    else:
        raise ProjectInputError(f"{name}: not a project file; upload a .py script, a .ipynb notebook or a .zip of the project folder")
    if not project.sources:
        raise ProjectInputError(f"{name}: no Python file or notebook inside" + (f" ({project.problems[0]})" if project.problems else ""))
    return project


def load_path(path: Path, limits: InputLimits = InputLimits()) -> Project:
    """A project on disk: a folder, or one file as if uploaded."""
    if not path.exists():
        raise ProjectInputError(f"{path}: no such file or folder")
    if path.is_dir():
        project = load_folder(path, limits)
        if not project.sources:
            raise ProjectInputError(f"{path}: no Python file or notebook inside")
        return project
    size = path.stat().st_size
    if size > limits.upload_mb * 2**20:
        raise ProjectInputError(f"{path.name}: refused, {size / 2**20:.1f} MB is over the {limits.upload_mb:g} MB upload limit")
    return load_upload(path.name, path.read_bytes(), limits)
