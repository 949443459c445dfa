"""The real bank: complete, clean, and carrying every item of the five source documents."""

import json
import re
import subprocess
import sys
from collections import Counter

import pytest

from qa_bank.lint import lint
from qa_bank.loader import load_bank

# Items per source document, as the seeds' README counts them (file order).
EXPECTED_PER_DOCUMENT = {
    "Viva Q&A: the CIFAR-10 training script (expt1/train_cifar10.py)": 50,
    "Interview questions: week-2 review": 10,
    "PyTorch fundamentals": 15,
    "Practice Q&A: Keras ResNet50 transfer learning on a CIFAR-10 subset": 83,
    "ResNets, regularisation and modern training": 60,
}


@pytest.fixture(scope="module")
def bank():
    return load_bank()


def test_real_bank_lints_clean():
    assert [str(p) for p in lint()] == []


def test_counts_per_source_document(bank):
    assert Counter(item.source.document for item in bank.items) == EXPECTED_PER_DOCUMENT
    assert len(bank.items) == 218


def test_each_document_is_numbered_as_printed(bank):
    # The sectioned document restarts numbering per section; the others count 1..N.
    by_position: dict[tuple[str, str | None], list[int]] = {}
    for item in bank.items:
        by_position.setdefault((item.source.document, item.source.section), []).append(item.source.number)
    for numbers in by_position.values():
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def test_every_item_has_a_real_answer_and_key_points(bank):
    for item in bank.items:
        assert len(item.answer) >= 20, item.id
        assert 2 <= len(item.key_points) <= 6, item.id
        assert 1 <= len(item.topics) <= 3, item.id


def test_topic_vocabulary_is_sized_and_used(bank):
    assert 15 <= len(bank.topics) <= 25
    used = {topic for item in bank.items for topic in item.topics}
    assert used == set(bank.topics), f"unused topics: {set(bank.topics) - used}"


def test_answers_carry_no_broken_latex_text_macros(bank):
    # The fundamentals document typeset code as $\text{...}$ and once as a bare text{...}.
    broken = re.compile(r"(?<!\\)text\{|\$\\text\{[^{}$]*\}\$")
    for item in bank.items:
        assert not broken.search(item.question + item.answer), item.id


def test_known_corrections_are_notes_not_rewrites(bank):
    items = bank.by_id()
    dropout = next(i for i in bank.items if i.source.document == "PyTorch fundamentals" and i.source.number == 15)
    assert "randomly setting weights to zero" in dropout.answer  # the source's words are kept
    assert "activations" in dropout.notes
    amp = next(i for i in items.values() if i.id.startswith("interview-06"))
    assert "torch.cuda.amp" in amp.answer and "torch.amp" in amp.notes


def test_cli_list_json_holds_every_item():
    result = subprocess.run([sys.executable, "-m", "qa_bank", "list", "--json"], capture_output=True, text=True, check=True)
    items = json.loads(result.stdout)
    assert len(items) == 218
    expected_fields = {"id", "question", "answer", "type", "topics", "difficulty", "source", "key_points", "notes", "code_refs", "demo"}
    assert expected_fields <= set(items[0])


def test_cli_show_and_stats(bank):
    first = bank.items[0]
    shown = subprocess.run([sys.executable, "-m", "qa_bank", "show", first.id, "--json"], capture_output=True, text=True, check=True)
    assert json.loads(shown.stdout)["question"] == first.question
    stats = subprocess.run([sys.executable, "-m", "qa_bank", "stats", "--json"], capture_output=True, text=True, check=True)
    assert json.loads(stats.stdout)["items"] == 218


def test_cli_show_lists_the_roles_and_json_keeps_them():
    shown = subprocess.run([sys.executable, "-m", "qa_bank", "show", "resnet-07"], capture_output=True, text=True, check=True)
    assert "Roles: zeros: fills border with black; reflect: mirrors pixels from inside" in shown.stdout
    raw = subprocess.run([sys.executable, "-m", "qa_bank", "show", "resnet-07", "--json"], capture_output=True, text=True, check=True)
    assert json.loads(raw.stdout)["roles"][1] == {"subject": "reflect", "does": "mirrors pixels from inside"}


def test_cli_show_unknown_id_is_one_line_error():
    result = subprocess.run([sys.executable, "-m", "qa_bank", "show", "no-such-item"], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "no-such-item" in result.stderr


def test_an_item_is_found_by_the_short_id_notes_cite_it_by(bank):
    # Notes say "see keras-s6-q7"; the full id adds the question's words. Only a unique head resolves:
    # "keras-s6" heads several items, and "keras-s6-q" is not a whole word of any id.
    assert bank.find("keras-s6-q7").id == "keras-s6-q7-long-phase-1-training-take"
    assert bank.find("keras-s6-q7-long-phase-1-training-take").id == "keras-s6-q7-long-phase-1-training-take"
    assert bank.find("keras-s6") is None and bank.find("keras-s6-q") is None and bank.find("viva-99") is None
    shown = subprocess.run([sys.executable, "-m", "qa_bank", "show", "viva-30", "--json"], capture_output=True, text=True, check=True)
    assert json.loads(shown.stdout)["id"] == "viva-30-purpose-model-train-model-eval"


def test_items_about_the_training_script_link_to_its_code(bank):
    viva = [item for item in bank.items if item.id.startswith("viva-")]
    linked = [item for item in viva if item.code_refs]
    # Only three viva items are not about a piece of the script (hyperparameter search, profiling
    # advice, follow-up questions).
    assert len(linked) >= 47, [item.id for item in viva if not item.code_refs]
    assert any("cifar_core.train:train_epoch" in item.code_refs for item in viva)
