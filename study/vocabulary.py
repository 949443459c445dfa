"""Words of the field: abbreviations a learner types, stopwords, and text normalisation."""

from __future__ import annotations

import re

# Each abbreviation expands to the words the bank uses, so "BN" finds "BatchNorm" and a typed
# answer saying "LR" matches a key point saying "learning rate".
ABBREVIATIONS: dict[str, str] = {
    "bn": "batchnorm batch normalization",
    "lr": "learning rate",
    "gap": "global average pooling",
    "amp": "automatic mixed precision autocast",
    "ddp": "distributeddataparallel distributed data parallel",
    "sgd": "stochastic gradient descent sgd",
    "ece": "expected calibration error",
    "tta": "test time augmentation",
    "cnn": "convolutional neural network cnn",
    "fc": "fully connected linear",
    "relu": "relu rectified linear",
    "ce": "cross entropy",
    "bce": "binary cross entropy",
    "nan": "nan not a number",
    "oom": "out of memory",
    "gpu": "gpu cuda",
    "wd": "weight decay",
    "ls": "label smoothing",
    "fp16": "float16 half precision",
    "bf16": "bfloat16",
    "onnx": "onnx export",
    "gradcam": "grad cam",
    "resnet": "resnet residual",
    "init": "initialization initialisation",
    "aug": "augmentation",
    "val": "validation",
    "acc": "accuracy",
    "ckpt": "checkpoint",
    "multi": "multi multiple",
}
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "for",
        "is",
        "are",
        "be",
        "do",
        "does",
        "did",
        "we",
        "you",
        "it",
        "its",
        "this",
        "that",
        "what",
        "why",
        "how",
        "which",
        "when",
        "where",
        "with",
        "by",
        "as",
        "at",
        "from",
        "into",
        "if",
        "not",
        "no",
        "can",
        "could",
        "should",
        "would",
        "will",
        "just",
        "than",
        "then",
        "there",
        "their",
        "them",
        "they",
        "our",
        "your",
        "was",
        "were",
        "been",
        "being",
        "has",
        "have",
        "had",
        "so",
        "such",
        "very",
        "more",
        "most",
        "less",
        "also",
        "use",
        "used",
        "using",
        "about",
        "over",
        "under",
        "each",
        "per",
        "any",
        "all",
    ]
)
# British and American spellings the bank mixes.
_SPELLING = {
    "normalisation": "normalization",
    "normalise": "normalize",
    "initialisation": "initialization",
    "regularisation": "regularization",
}
_TOKEN = re.compile(r"[A-Za-z0-9]+")
# Joints inside a compound identifier: DataParallel, BatchNorm2d, ReLU6 (not inside "ReLU" or "GPU").
_COMPOUND_JOINT = re.compile(r"(?<=[a-z])(?=[A-Z][a-z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[a-z])(?=[0-9])")


def _normal(word: str) -> str:
    word = word.lower()
    word = _SPELLING.get(word, word)
    if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word


def tokens(text: str) -> list[str]:
    """Lowercase word tokens with spelling unified and a plural 's' stripped. A compound identifier
    gives itself and its parts ("DataParallel": dataparallel, data, parallel), so it is found by the
    words a learner types; zero_grad is split at the underscore."""
    words = []
    for surface in _TOKEN.findall(text.replace("-", " ").replace("_", " ")):
        parts = _COMPOUND_JOINT.split(surface)
        words.append(_normal(surface))
        if len(parts) > 1:
            words.extend(_normal(part) for part in parts)
    return words


def expand(text: str) -> list[str]:
    """Tokens with abbreviations expanded (the abbreviation itself kept too)."""
    out = []
    for word in tokens(text):
        out.append(word)
        if word in ABBREVIATIONS:
            out.extend(tokens(ABBREVIATIONS[word]))
    return out


def content_words(text: str) -> list[str]:
    return [w for w in expand(text) if w not in STOPWORDS]
