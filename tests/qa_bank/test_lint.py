"""Lint reports each broken bank file as `path:line: message` lines and exits 1, never a traceback."""

import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


def run_lint(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qa_bank", "lint", *map(str, paths)], capture_output=True, text=True)


def test_valid_fixture_passes():
    result = run_lint(FIXTURES / "valid_item.yaml")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("fixture", "line", "fragment"),
    [
        ("bad_syntax.yaml", 5, "invalid YAML"),
        ("missing_field.yaml", 11, "item 'fixture-missing-answer': missing required field 'answer'"),
        ("wrong_type.yaml", 7, "item 'fixture-wrong-type': difficulty: must be an integer 1-3, not str"),
        ("duplicate_id.yaml", 11, "duplicate id 'fixture-twice' (first at"),
        ("unknown_topic.yaml", 8, "unknown topic 'quantum-computing'"),
        ("dangling_code_ref.yaml", 10, "has no attribute 'NoSuchThing'"),
    ],
)
def test_broken_fixture_gives_path_line_message(fixture, line, fragment):
    path = FIXTURES / fixture
    result = run_lint(path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    problem_lines = [entry for entry in result.stderr.splitlines() if not entry.endswith("problem(s)")]
    assert problem_lines, result.stderr
    first = problem_lines[0]
    assert first.startswith(f"{path}:{line}: "), first
    assert fragment in first


def test_every_problem_is_reported_at_once(tmp_path):
    broken = tmp_path / "two_problems.yaml"
    broken.write_text(
        "items:\n- id: Not A Slug\n  question: q\n  answer: a\n  type: [vague]\n  topics: [autograd]\n"
        "  difficulty: 1\n  source: {document: d, number: 1}\n  key_points: [only one]\n"
    )
    result = run_lint(broken)
    messages = result.stderr.splitlines()
    assert any(":2: " in m and "not a lowercase slug" in m for m in messages)
    assert any(":5: " in m and "unknown type word" in m for m in messages)
    assert any(":9: " in m and "must have 2 to 6 entries" in m for m in messages)


def test_a_key_point_listed_twice_is_refused(tmp_path):
    # One clause would credit both copies, and a claim or a pair names its point by its text.
    valid = (FIXTURES / "valid_item.yaml").read_text()
    text = valid.replace("[batch statistics, learnable scale and shift]", "[batch statistics, batch statistics]")
    broken = tmp_path / "twice.yaml"
    broken.write_text(text)
    result = run_lint(broken)
    assert result.returncode == 1 and "key_points: 'batch statistics' is listed twice" in result.stderr, result.stderr


def test_duplicate_yaml_key_is_reported(tmp_path):
    text = (FIXTURES / "valid_item.yaml").read_text().replace("  difficulty: 1\n", "  difficulty: 1\n  difficulty: 2\n")
    broken = tmp_path / "dup_key.yaml"
    broken.write_text(text)
    result = run_lint(broken)
    assert result.returncode == 1
    assert f"{broken}:8: duplicate key 'difficulty'" in result.stderr


def test_yaml_tags_that_construct_objects_are_refused(tmp_path):
    hostile = tmp_path / "hostile.yaml"
    hostile.write_text("items: !!python/object/apply:os.system ['echo pwned > " + str(tmp_path / "owned") + "']\n")
    result = run_lint(hostile)
    assert result.returncode == 1
    assert not (tmp_path / "owned").exists()
    assert f"{hostile}:1: invalid YAML: could not determine a constructor" in result.stderr


def test_missing_file_is_one_line(tmp_path):
    result = run_lint(tmp_path / "nope.yaml")
    assert result.returncode == 1
    assert result.stderr.strip() == f"{tmp_path / 'nope.yaml'}:0: no such file"


@pytest.mark.parametrize(
    ("misconceptions", "fragment"),
    [
        ("  - belief: dropout zeroes weights\n", "misconceptions: entry 1: missing correction"),
        ("  - {belief: x, correction: y, note: z}\n", "entry 1: unknown key(s) note"),
        ("  - {belief: ' ', correction: y}\n", "entry 1: belief must be non-empty text"),
        ("  - dropout zeroes weights\n", "entry 1 must be a mapping with belief and correction"),
        ("  - {belief: dropout zeroes weights, correction: y, truth: ''}\n", "entry 1: truth must be non-empty text"),
        ("  - {belief: dropout zeroes weights, correction: y, truth: Dropout zeroes weights}\n", "entry 1: truth must differ from belief"),
        ("  - {belief: x, correction: y, truth: " + "word " * 21 + "}\n", "entry 1: truth must be at most 20 words, has 21"),
        # The give-away the blind review found: a truth much longer than its belief.
        (
            "  - {belief: dropout zeroes weights, correction: y, truth: dropout zeroes a random share of the activations in training}\n",
            "entry 1: truth must be about as long as belief: at most 5 words and 31 characters",
        ),
        # A check-only pair is asked, never graded: without a truth there is nothing to ask.
        ("  - {belief: x, correction: y, check_only: true}\n", "entry 1: check_only must be true, on a belief with a truth"),
        ("  - {belief: x, correction: y, truth: z, check_only: 'yes'}\n", "entry 1: check_only must be true, on a belief with a truth"),
        # A pair written for a key point is only asked, and names the point it reverses.
        ("  - {belief: x, correction: y, truth: z, point: w}\n", "entry 1: point must be a key point's text, on a check_only pair"),
        ("  - {belief: x, correction: y, truth: z, check_only: true, point: 3}\n", "entry 1: point must be a key point's text"),
        ("  - {belief: x, correction: y, truth: z, check_only: true, point: ''}\n", "entry 1: point must be a key point's text"),
        # At most 10: each pair is one more pick for the learner after every answer.
        ("".join(f"  - {{belief: b{n}, correction: c}}\n" for n in range(11)), "misconceptions: must have 1 to 10 entries, has 11"),
    ],
)
def test_bad_misconceptions_give_path_line_message(tmp_path, misconceptions, fragment):
    valid = (FIXTURES / "valid_item.yaml").read_text()
    broken = tmp_path / "misconceptions.yaml"
    broken.write_text(valid.rstrip("\n") + "\n  misconceptions:\n" + misconceptions)
    line = len(valid.rstrip("\n").splitlines()) + 1
    result = run_lint(broken)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"{broken}:{line}: " in result.stderr and fragment in result.stderr, result.stderr


def test_a_pair_for_a_point_the_item_lacks_names_the_entry_line(tmp_path):
    valid = (FIXTURES / "valid_item.yaml").read_text().rstrip("\n")
    broken = tmp_path / "point.yaml"
    broken.write_text(valid + "\n  misconceptions:\n  - {belief: x, correction: y, truth: z, check_only: true, point: w}\n")
    result = run_lint(broken)
    line = len(valid.splitlines()) + 2  # the entry's own line, below "misconceptions:"
    assert result.returncode == 1
    assert f"{broken}:{line}: item 'fixture-one': misconceptions: entry 1: point 'w' is not one of the key points" in result.stderr


def test_valid_misconceptions_pass(tmp_path):
    valid = (FIXTURES / "valid_item.yaml").read_text().rstrip("\n")
    good = tmp_path / "good.yaml"
    good.write_text(valid + "\n  misconceptions:\n  - belief: dropout zeroes weights\n    correction: it zeroes activations\n")
    assert run_lint(good).returncode == 0
    good.write_text(good.read_text() + "    truth: dropout zeroes activations\n")
    assert run_lint(good).returncode == 0
    good.write_text(good.read_text() + "    check_only: true\n    point: batch statistics\n")
    assert run_lint(good).returncode == 0


def test_at_least_80_items_carry_misconceptions():
    from qa_bank.loader import load_bank

    assert sum(1 for item in load_bank().items if item.misconceptions) >= 80


@pytest.mark.parametrize(
    ("replacement", "fragment"),
    [
        ("", "has neither demo nor unproved"),
        ("  demo: bn-train-vs-eval\n  unproved: {reason: opinion, note: both at once}\n", "has both demo and unproved"),
        ("  unproved: {reason: too hard, note: not a reason}\n", "unknown reason 'too hard'"),
        ("  unproved: {reason: opinion}\n", "unproved: missing note"),
    ],
)
def test_lint_demands_a_demo_or_a_stated_reason(tmp_path, replacement, fragment):
    text = (FIXTURES / "valid_item.yaml").read_text().replace("  unproved: {reason: procedure, note: a lint fixture}\n", replacement)
    path = tmp_path / "proof.yaml"
    path.write_text(text)
    result = run_lint(path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert fragment in result.stderr, result.stderr


def test_every_bank_item_is_proved_or_says_why():
    from qa_bank.loader import load_bank
    from qa_bank.schema import UNPROVED_REASONS

    items = load_bank().items
    assert all((item.demo is None) != (item.unproved is None) for item in items)
    assert all(item.unproved.reason in UNPROVED_REASONS and item.unproved.note.strip() for item in items if item.unproved)


@pytest.mark.parametrize(
    ("replacement", "line", "fragment"),
    [
        ("  demo: bn-train-vs-eval\n", 10, "demo without claim_check: name the check of the demo whose failure would refute"),
        ("  claim_check: eval uses running stats\n", 10, "claim_check without a demo"),
        (
            "  demo: bn-train-vs-eval\n  claim_check: no such check\n",
            11,
            "claim_check: demo 'bn-train-vs-eval' has no check 'no such check' (its checks: ",
        ),
        ("  demo: bn-train-vs-eval\n  claim_check: ''\n", 11, "claim_check: must not be empty"),
    ],
)
def test_lint_demands_a_claim_check_the_demo_reports(tmp_path, replacement, line, fragment):
    text = (FIXTURES / "valid_item.yaml").read_text().replace("  unproved: {reason: procedure, note: a lint fixture}\n", replacement)
    if "demo:" not in replacement:
        text += "  unproved: {reason: procedure, note: a lint fixture}\n"
    path = tmp_path / "claim.yaml"
    path.write_text(text)
    result = run_lint(path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"{path}:{line}: item 'fixture-one': {fragment}" in result.stderr, result.stderr


def test_a_claim_check_the_demo_reports_passes(tmp_path):
    from proofs.catalogue import get_demo

    name = get_demo("bn-train-vs-eval").check_names[0]
    text = (
        (FIXTURES / "valid_item.yaml")
        .read_text()
        .replace("  unproved: {reason: procedure, note: a lint fixture}\n", f"  demo: bn-train-vs-eval\n  claim_check: {name!r}\n")
    )
    path = tmp_path / "claim.yaml"
    path.write_text(text)
    assert run_lint(path).returncode == 0, run_lint(path).stderr


def _with_field(tmp_path: Path, name: str, body: str) -> tuple[Path, int]:
    """The valid fixture with one more field (`body`: its YAML lines); the path and that field's line."""
    valid = (FIXTURES / "valid_item.yaml").read_text().rstrip("\n")
    path = tmp_path / f"{name}.yaml"
    path.write_text(valid + f"\n  {name}:\n" + body)
    return path, len(valid.splitlines()) + 1


def _with_claims(tmp_path, claims: str):
    return _with_field(tmp_path, "claims", claims)


@pytest.mark.parametrize(
    ("claims", "fragment"),
    [
        ("  - {point: not a key point, relation: says}\n", "claims: entry 1: 'not a key point' is not one of the key points"),
        ("  - {point: batch statistics, subject: x}\n", "entry 1: says nothing the key point does not"),
        ("  - {point: batch statistics, tolerance: -1}\n", "entry 1: tolerance must be a positive number"),
        ("  - {point: batch statistics, contrary: overwrites}\n", "entry 1: contrary must be a list of non-empty texts"),
        ("  - {point: batch statistics, relation: adds, verb: adds}\n", "entry 1: unknown key(s) verb"),
    ],
)
def test_bad_claims_give_path_line_message(tmp_path, claims, fragment):
    broken, line = _with_claims(tmp_path, claims)
    result = run_lint(broken)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"{broken}:" in result.stderr and fragment in result.stderr, result.stderr


def test_valid_claims_pass_and_load(tmp_path):
    from qa_bank.loader import load_bank

    good, _ = _with_claims(tmp_path, "  - point: batch statistics\n    relation: adds into\n    contrary: [overwrites the gradients]\n")
    assert run_lint(good).returncode == 0, run_lint(good).stderr
    claim = load_bank([good]).items[0].claims[0]
    assert (claim.relation, claim.contrary, claim.tolerance) == ("adds into", ("overwrites the gradients",), None)


def test_a_claim_with_subject_and_object_gives_roles(tmp_path):
    # A subject with an object names who does what (the grader reads the item's subjects as roles),
    # so it says something the free text does not; a subject alone still does not.
    path, _ = _with_claims(tmp_path, "  - {point: batch statistics, subject: batch, object: statistics}\n")
    assert run_lint(path).returncode == 0, run_lint(path).stderr


def test_a_claims_value_needs_a_number_and_a_subject(tmp_path):
    broken, _ = _with_claims(tmp_path, "  - {point: batch statistics, value: high}\n")
    result = run_lint(broken)
    assert result.returncode == 1 and "value must be a number or true/false, with the subject that takes it" in result.stderr
    fine, _ = _with_claims(tmp_path, "  - {point: batch statistics, subject: batch, value: 0.1, tolerance: 0.05}\n")
    assert run_lint(fine).returncode == 0, run_lint(fine).stderr


@pytest.mark.parametrize(
    ("roles", "fragment"),
    [
        ("  - {subject: gamma, does: scales the output}\n", "roles: must have 2 to 4 entries (a role is asked against another), has 1"),
        ("  - {subject: gamma, does: scales}\n  - {subject: beta, does: shifts the output}\n", "entry 1: does must be 2 to 8 words, has 1"),
        ("  - {subject: gamma, does: scales the output}\n  - {subject: Gamma, does: shifts the output}\n", "roles: subjects must differ"),
        ("  - {subject: gamma, does: scales beta's output}\n  - {subject: beta, does: shifts it}\n", "does names another role ('beta')"),
        ("  - {subject: gamma, does: scales it, why: x}\n  - {subject: beta, does: shifts it}\n", "entry 1 must be a mapping with exactly"),
    ],
)
def test_bad_roles_give_path_line_message(tmp_path, roles, fragment):
    broken, line = _with_field(tmp_path, "roles", roles)
    result = run_lint(broken)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"{broken}:{line}: " in result.stderr and fragment in result.stderr, result.stderr


def test_valid_roles_pass_and_load(tmp_path):
    from qa_bank.loader import load_bank

    # "He" is no role named inside "the" (a whole word only).
    roles = "  - {subject: He, does: suits ReLU layers}\n  - {subject: Xavier, does: suits the tanh layers}\n"
    good, _ = _with_field(tmp_path, "roles", roles)
    assert run_lint(good).returncode == 0, run_lint(good).stderr
    roles = load_bank([good]).items[0].roles
    assert [(r.subject, r.does) for r in roles] == [("He", "suits ReLU layers"), ("Xavier", "suits the tanh layers")]
