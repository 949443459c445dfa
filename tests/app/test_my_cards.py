"""Editing, adding and importing cards in the app: stored as the learner's overlay, surviving an
app restart, the shipped YAML untouched; undo and interval previews on the flashcards page."""

from qa_bank.loader import ITEMS_DIR
from study.store import ProgressStore


def button(at, label_start: str):
    return next(b for b in at.button if b.label.startswith(label_start))


def test_edit_a_card_on_the_flashcards_page_and_it_survives_a_restart(app, progress_db):
    shipped = {p: p.read_bytes() for p in ITEMS_DIR.glob("*.yaml")}
    at = app("pages/flashcards.py")
    button(at, "Reveal answer").click().run()
    question = next(t for t in at.text_area if t.label == "Question")
    question.set_value(question.value + " (in my words)")
    next(b for b in at.button if b.label == "Save my version").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    own = ProgressStore(progress_db).own_cards()
    assert len(own) == 1 and own[0].edits and own[0].item["question"].endswith("(in my words)")
    restarted = app("pages/flashcards.py")
    assert restarted.markdown[0].value.endswith("(in my words)")
    assert {p: p.read_bytes() for p in ITEMS_DIR.glob("*.yaml")} == shipped


def test_add_a_card_and_see_its_problems_when_invalid(app, progress_db):
    at = app("pages/my_cards.py")
    next(b for b in at.button if b.label == "Add card").click().run()
    assert at.error and "Not saved" in at.error[0].value  # empty card: every problem listed
    fields = {t.label: t for t in at.text_area}
    fields["Question"].set_value("What does channels_last change?")
    fields["Answer (Markdown)"].set_value("The memory layout: NHWC, which fast convolution kernels prefer.")
    fields["Key points, one per line (2-6)"].set_value("memory layout NHWC\nfaster convolution kernels")
    next(m for m in at.multiselect if m.label.startswith("Topics")).select("performance")
    next(b for b in at.button if b.label == "Add card").click().run()
    assert not at.error and at.success, [e.value for e in at.error]
    assert [c.item["question"] for c in ProgressStore(progress_db).own_cards()] == ["What does channels_last change?"]
    restarted = app("pages/search.py")
    restarted.text_input[0].set_value("channels_last layout").run()
    assert restarted.expander[0].label.startswith("What does channels_last change?")


def test_undo_restores_the_due_count_and_buttons_show_intervals(app, progress_db):
    at = app("pages/flashcards.py")

    def due_line() -> str:
        return next(c.value for c in at.caption if " due · " in c.value)

    counts = due_line()
    button(at, "Reveal answer").click().run()
    labels = [b.label for b in at.button if b.label.split(" ")[0] in ("Again", "Hard", "Good", "Easy")]
    # FSRS-6 defaults, new card; Easy's 8 days is load-balanced (on by default) to a day of its fuzz
    # range 6-10, every one empty and so equally likely as in Anki; the draw is fixed by the card.
    assert labels == ["Again · 1m (1)", "Hard · 6m (2)", "Good · 10m (3)", "Easy · 7d (4)"]
    button(at, "Good").click().run()
    assert due_line() != counts and len(ProgressStore(progress_db).reviews()) == 1
    button(at, "Undo last rating").click().run()
    assert not at.exception
    assert due_line() == counts and ProgressStore(progress_db).reviews() == []


NOTES = b"""# My notes

Q: What does torch.no_grad() save during validation?
A: It stores no graph, so validation uses less memory and runs faster.

Q: Why shuffle the training data each epoch?
A: So every batch is a fair sample of the classes and the gradient is unbiased.

Q:
A: a block with no question
"""


def test_import_markdown_notes_from_the_page_with_a_report(app, progress_db):
    at = app("pages/my_cards.py")
    at.file_uploader[0].upload("notes.md", NOTES, "text/markdown").run()
    next(b for b in at.button if b.label == "Import these notes").click().run()
    assert not at.exception and at.success, [e.value for e in at.error]
    questions = [c.item["question"] for c in ProgressStore(progress_db).own_cards()]
    assert "What does torch.no_grad() save during validation?" in questions
    assert at.success[0].value.startswith(f"Imported {len(questions)} card(s) from notes.md")
