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
_TOKEN = re.compile(r"[a-z0-9]+")


def tokens(text: str) -> list[str]:
    """Lowercase word tokens with spelling unified and a plural 's' stripped."""
    words = []
    for word in _TOKEN.findall(text.lower().replace("-", " ").replace("_", " ")):
        word = _SPELLING.get(word, word)
        if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        words.append(word)
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
