"""Generated questions must have one right answer, and it must be true of the learner's script:
a module called three times has three output shapes; a StepLR stepped every batch decays every
step_size batches; a test set that is augmented cannot be asked "why only the training images?"."""

from project_viva.analysis import Analysis
from project_viva.deck import PROJECT_PREFIX, build_deck
from project_viva.questions import generate_questions
from qa_bank.loader import load_bank
from study.grading import grade


def layer(name: str, kind: str, shape: list[int]) -> dict:
    return {"name": name, "path": name, "type": kind, "depth": 1, "output_shape": shape, "params": 0, "trainable": 0, "leaf": True}


SHARED_POOL = [
    layer("conv1", "Conv2d", [1, 32, 32, 32]), layer("pool", "MaxPool2d", [1, 32, 16, 16]),
    layer("conv2", "Conv2d", [1, 64, 16, 16]), layer("pool", "MaxPool2d", [1, 64, 8, 8]),
    layer("conv3", "Conv2d", [1, 128, 8, 8]), layer("pool", "MaxPool2d", [1, 128, 4, 4]),
]  # fmt: skip


def by_key(analysis: Analysis) -> dict[str, dict]:
    return {q["key"]: q for q in generate_questions(analysis)}


def test_a_pool_module_used_after_every_conv_is_not_asked_about():
    questions = by_key(Analysis("p", layers=SHARED_POOL))
    assert "shape-pool" not in questions
    assert questions["shape-conv3"]["key_points"] == ["128 channels", "8x8 spatial size"]


def test_no_shape_question_when_fewer_than_three_modules_are_called_once():
    assert not any(key.startswith("shape-") for key in by_key(Analysis("p", layers=SHARED_POOL[:4])))


STEP_FACTS = {"lr_by_epoch": [0.05, 5e-41, 5e-41, 5e-41], "epochs": 4}


def lr_item(stepped: str):
    analysis = Analysis("p", facts={**STEP_FACTS, "scheduler": {"name": "StepLR", "stepped": stepped}})
    analysis.questions = generate_questions(analysis)
    return next(i for i in build_deck(load_bank(), analysis.to_dict()).generated if i.id == f"{PROJECT_PREFIX}lr-epoch")


def test_a_steplr_stepped_every_batch_is_explained_in_batches():
    item = lr_item("per_batch")
    assert item.key_points == (
        "learning rate 5e-41 in epoch 2",
        "multiplies the learning rate by gamma every step_size batches",
        "scheduler.step() is called every batch, not every epoch",
    )
    assert item.answer.endswith("every step_size batches, because your script steps it every batch.")


def test_a_steplr_stepped_every_epoch_is_explained_in_epochs():
    assert lr_item("per_epoch").key_points == (
        "learning rate 5e-41 in epoch 2",
        "multiplies the learning rate by gamma every step_size epochs",
    )


def test_the_learners_explanation_of_a_per_batch_steplr_beats_the_textbook_one():
    item = lr_item("per_batch")
    mine = (
        "5e-41 in epoch 2, because the scheduler is stepped every batch, so step_size counts batches and gamma is applied every 10 batches."
    )
    textbook = "5e-41 in epoch 2: StepLR multiplies the learning rate by gamma every step_size epochs."
    wrong = "In epoch 2 it is still 0.05, StepLR only decays it after 10 epochs."
    assert grade(item, mine).score > grade(item, textbook).score  # the textbook line was the model answer before
    assert grade(item, wrong).score < 0.5


def test_an_augmented_test_set_is_not_asked_why_only_the_training_images():
    facts = {"augmentations": ["RandomCrop", "RandomHorizontalFlip"]}
    clean = by_key(Analysis("p", facts=facts, extra={"test_augmentations": []}))["augmentations"]
    augmented = by_key(Analysis("p", facts=facts, extra={"test_augmentations": ["RandomHorizontalFlip"]}))["augmentations"]
    assert clean["question"].endswith("why only to the training images?")
    assert "only" not in augmented["question"] and "your test set also gets RandomHorizontalFlip" in augmented["answer"]
