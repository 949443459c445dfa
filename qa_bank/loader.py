"""Read the bank's YAML files into typed items, collecting every problem with its line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from qa_bank.schema import Bank, QAItem, Topic, validate_item
from qa_bank.yaml_lines import LocatedYaml, YamlLoadError, load_located_yaml

BANK_DIR = Path(__file__).resolve().parent
ITEMS_DIR = BANK_DIR / "items"
TOPICS_FILE = BANK_DIR / "topics.yaml"


@dataclass(frozen=True)
class BankProblem:
    """One problem a learner or editor can fix, pointing at a file and line."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class ItemLocation:
    """Where an item sits: its file, the line of its id, and the line of each of its fields."""

    path: str
    line: int
    field_lines: dict[str, int]

    def line_of(self, field_name: str) -> int:
        return self.field_lines.get(field_name, self.line)


class BankError(Exception):
    """The bank could not be loaded; `problems` lists every reason."""

    def __init__(self, problems: list[BankProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def item_files(items_dir: Path = ITEMS_DIR) -> list[Path]:
    return sorted(items_dir.glob("*.yaml"))


def _read_located(path: Path) -> tuple[LocatedYaml | None, list[BankProblem]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return None, [BankProblem(str(path), 1, f"cannot read file: {error}")]
    try:
        return load_located_yaml(text), []
    except YamlLoadError as error:
        return None, [BankProblem(str(path), error.line, error.message)]


def load_topics(path: Path = TOPICS_FILE) -> tuple[dict[str, Topic], list[BankProblem]]:
    """The controlled topic vocabulary: a top-level `topics:` list of {id, name, description}."""
    located, problems = _read_located(path)
    if located is None:
        return {}, problems
    entries = located.data.get("topics") if isinstance(located.data, dict) else None
    if not isinstance(entries, list):
        return {}, [BankProblem(str(path), 1, "expected a top-level 'topics:' list")]
    topics: dict[str, Topic] = {}
    for index, entry in enumerate(entries):
        line = located.line_of(("topics", index))
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not isinstance(entry.get("name"), str):
            problems.append(BankProblem(str(path), line, "each topic needs text 'id' and 'name'"))
            continue
        if entry["id"] in topics:
            problems.append(BankProblem(str(path), line, f"duplicate topic id '{entry['id']}'"))
        topics[entry["id"]] = Topic(entry["id"], entry["name"], str(entry.get("description", "")))
    return topics, problems


def read_items_file(path: Path, known_topics: set[str]) -> tuple[list[QAItem], list[BankProblem], dict[str, ItemLocation]]:
    """Items of one bank file, its problems, and where each valid item sits."""
    located, problems = _read_located(path)
    if located is None:
        return [], problems, {}
    shown = str(path)
    for key_path, line in located.duplicate_keys:
        problems.append(BankProblem(shown, line, f"duplicate key '{key_path[-1]}'"))
    raw_items = located.data.get("items") if isinstance(located.data, dict) else None
    if not isinstance(raw_items, list):
        return [], [*problems, BankProblem(shown, 1, "expected a top-level 'items:' list")], {}
    items: list[QAItem] = []
    locations: dict[str, ItemLocation] = {}
    for index, raw in enumerate(raw_items):
        item_problems = validate_item(raw, known_topics)
        for problem in item_problems:
            line = located.line_of(("items", index, *problem.field))
            problems.append(BankProblem(shown, line, _prefix(raw, problem.message)))
        if not item_problems:
            item = QAItem.from_dict(raw)
            items.append(item)
            field_lines = {name: located.line_of(("items", index, name)) for name in raw}
            locations[item.id] = ItemLocation(shown, field_lines["id"], field_lines)
    return items, problems, locations


def _prefix(raw: object, message: str) -> str:
    item_id = raw.get("id") if isinstance(raw, dict) else None
    return f"item '{item_id}': {message}" if isinstance(item_id, str) else message


@dataclass
class CollectedBank:
    bank: Bank
    problems: list[BankProblem]
    locations: dict[str, ItemLocation]


def collect_bank(paths: list[Path] | None = None, topics_path: Path = TOPICS_FILE) -> CollectedBank:
    """Load the given bank files (default: all of them) and every problem found, ids checked across files."""
    topics, problems = load_topics(topics_path)
    collected = CollectedBank(Bank(topics=topics), problems, {})
    for path in paths if paths is not None else item_files():
        items, file_problems, locations = read_items_file(path, set(topics))
        problems.extend(file_problems)
        for item in items:
            here = locations[item.id]
            first = collected.locations.get(item.id)
            if first is not None:
                message = f"duplicate id '{item.id}' (first at {first.path}:{first.line})"
                problems.append(BankProblem(here.path, here.line, message))
                continue
            collected.locations[item.id] = here
            collected.bank.items.append(item)
    return collected


def load_bank(paths: list[Path] | None = None) -> Bank:
    """The whole bank, or BankError listing every problem."""
    collected = collect_bank(paths)
    if collected.problems:
        raise BankError(collected.problems)
    return collected.bank
