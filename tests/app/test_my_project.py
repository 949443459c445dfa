"""My project in AppTest: a learner's analysed project shows its facts with their lines, the layer
table, the learning-rate chart, the findings with their cards, the viva deck; the mock viva on the
project starts on the Mock viva page; Delete removes the upload, the analysis and the cards."""

from pathlib import Path

import pytest

from project_viva.analysis import analyse
from project_viva.deck import build_deck, store_deck
from project_viva.sources import load_path
from project_viva.workspace import load_analysis, save_analysis, workspace
from qa_bank.loader import load_bank
from study.store import ProgressStore
from tests.project_viva.scripts import line_of

SIMPLE = Path(__file__).parents[1] / "project_viva" / "fixtures" / "simple" / "train.py"


@pytest.fixture(scope="module")
def simple_result():
    return analyse(load_path(SIMPLE)).to_dict()


@pytest.fixture
def projects(tmp_path, monkeypatch):
    monkeypatch.setenv("VIVA_PROJECTS_DIR", str(tmp_path / "projects"))
    return tmp_path / "projects"


def test_without_a_project_the_page_asks_for_one(app, projects):
    at = app("pages/my_project.py")
    assert at.title[0].value == "My project" and at.info[0].value.startswith("No project yet")


def test_an_analysed_project_shows_facts_layers_chart_findings_and_deck(app, projects, progress_db, simple_result):
    save_analysis("default", simple_result)
    store_deck(ProgressStore(progress_db), build_deck(load_bank(), simple_result), simple_result_time())
    at = app("pages/my_project.py")
    assert at.subheader[0].value == "train: pytorch · entry `train.py`"
    facts = at.table[0].value
    optimizer = facts[facts["fact"] == "Optimizer"].iloc[0]
    assert optimizer["where"] == f"train.py:{line_of(SIMPLE.read_text(), 'optimizer = optim.SGD')}" and "SGD" in optimizer["value"]
    layers = at.table[1].value
    assert list(layers["type"][:3]) == ["Net", "Conv2d", "BatchNorm2d"] and layers["parameters"].iloc[0] == 1_070_986
    assert len(at.get("plotly_chart")) == 1
    kinds = [e.value for e in at.error]
    step = line_of(SIMPLE.read_text(), "        scheduler.step()")
    assert any(v.startswith(f"**Epoch-based scheduler stepped every batch** · `train.py:{step}`") for v in kinds)
    assert any("Best checkpoint chosen on the test set" in v for v in kinds)
    assert any(e.label.startswith("Study it:") for e in at.expander)
    assert any(e.label == "How many trainable parameters has your model (Net), and which layer holds most of them?" for e in at.expander)


def simple_result_time():
    from datetime import UTC, datetime

    return datetime(2026, 12, 1, tzinfo=UTC)


def test_mock_viva_on_the_project_asks_its_questions(app, projects, progress_db, simple_result):
    save_analysis("default", simple_result)
    at = app("pages/my_project.py")
    next(b for b in at.button if b.label == "Mock viva on my project").click().run()
    assert not at.exception
    session = at.session_state["viva-session"]
    deck = build_deck(load_bank(), simple_result)
    assert set(session.items) == {item.id for item in deck.generated} | {r.item_id for r in deck.ranked}
    assert at.markdown[0].value.startswith("### ") and at.markdown[0].value[4:] in {i.question for i in session.items.values()}


def test_delete_removes_the_upload_the_analysis_and_the_cards(app, projects, progress_db, simple_result):
    save_analysis("default", simple_result)
    store = ProgressStore(progress_db)
    store_deck(store, build_deck(load_bank(), simple_result), simple_result_time())
    assert store.own_cards()
    at = app("pages/my_project.py")
    next(b for b in at.button if b.label == "Delete my project").click().run()
    assert load_analysis("default") is None and not workspace("default").exists()
    assert ProgressStore(progress_db).own_cards() == []
    assert at.info[0].value.startswith("No project yet")


def test_facts_read_as_words_and_an_absent_scheduler_is_none_not_unknown(app, projects, simple_result):
    result = {**simple_result, "scheduler": None, "normalization": None, "params": None}
    save_analysis("default", result)
    facts = app("pages/my_project.py").table[0].value.set_index("fact")["value"]
    assert facts["Scheduler"] == "none" and facts["Normalisation"] == "none (no Normalize)"
    assert facts["Trainable parameters"] == "not established"  # null here is a gap: the model was not measured
    assert facts["Optimizer"] == "SGD, lr 0.1, momentum 0.9, weight decay 0.0005"


def test_a_scheduler_reads_with_how_it_is_stepped(app, projects, simple_result):
    save_analysis("default", simple_result)
    facts = app("pages/my_project.py").table[0].value.set_index("fact")["value"]
    assert facts["Scheduler"] == "StepLR, stepped per batch"
