"""Random and hostile input: every failure is a one-line `path:line: message`, never a traceback
or constructed object, in bounded time."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa_bank.loader import collect_bank
from qa_bank.markdown_parser import parse_markdown

YAML_ALPHABET = st.characters(codec="utf-8", exclude_categories=("Cs",))
YAML_FRAGMENTS = st.sampled_from(
    ["items:\n", "- id: x\n", "  question: q\n", "  answer: a\n", "  topics: [autograd]\n", "  type: [short]\n", "  difficulty: 2\n",
     "  source: {document: d, number: 1}\n", "  key_points: [a, b]\n", "!!python/object/apply:os.system ['true']\n", "&a [1]\n",
     "*a\n", "  - \n", ": :\n", "'\n", '"\n', "\t\n", "{[\n", "items: !!binary aGk=\n", "\x00"]
)  # fmt: skip


def _check_problems(path, problems):
    for problem in problems:
        text = str(problem)
        assert text.startswith(f"{path}:") and "\n" not in text and "Traceback" not in text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=YAML_ALPHABET, max_size=400))
def test_random_text_as_a_bank_file(tmp_path, text):
    path = tmp_path / "fuzz.yaml"
    path.write_text(text, encoding="utf-8")
    collected = collect_bank([path])
    _check_problems(path, collected.problems)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(YAML_FRAGMENTS, max_size=25))
def test_hostile_fragments_as_a_bank_file(tmp_path, fragments):
    path = tmp_path / "fuzz.yaml"
    path.write_text("".join(fragments), encoding="utf-8")
    collected = collect_bank([path])
    _check_problems(path, collected.problems)
    assert all(isinstance(item.question, str) for item in collected.bank.items)


def test_billion_laughs_is_refused_quickly(tmp_path):
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    lines.append("items: *a9")
    path = tmp_path / "laughs.yaml"
    path.write_text("\n".join(lines) + "\n")
    # 9^10 references if walked; refused at the first alias, so this returns at once.
    problems = collect_bank([path]).problems
    assert str(problems[0]) == f"{path}:2: YAML aliases (*a0) are not allowed in bank files"


def test_huge_file_is_refused_before_parsing(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text("items:\n" + "- x\n" * 2_000_000)
    problems = collect_bank([path]).problems
    assert len(problems) == 1 and "the limit is 5,000,000" in str(problems[0])


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=2000))
def test_markdown_importer_never_raises_and_lines_are_in_range(text):
    result = parse_markdown(text)
    line_count = max(1, len(text.splitlines()))
    for block in result.blocks:
        assert 1 <= block.line <= line_count and block.question and block.answer
    for skipped in result.skipped:
        assert 1 <= skipped.line <= line_count and "\n" not in skipped.reason


LAYOUT_LINES = [
    "1) Q: a?", "Answer:", "## Q2: b?", "**Answer:**", "### 3. T", "**Q:** c?", "**A:** d", "**Q4: e?**",
    "A: f", "Q: g?", "A: h", "```", "# 1. S", "## Section 2: X", "### Technical Questions", "---", "", "text",
]  # fmt: skip


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(LAYOUT_LINES), max_size=60))
def test_markdown_importer_on_shuffled_layout_lines(lines):
    result = parse_markdown("\n".join(lines))
    assert len(result.blocks) + len(result.skipped) <= len(lines)


def test_markdown_importer_is_linear_on_large_input():
    text = "Q: what?\nA: that.\n" * 50_000  # 1.2 MB; a quadratic parser would not finish
    assert len(parse_markdown(text).blocks) == 50_000
