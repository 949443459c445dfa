"""Training configuration: one typed dataclass, built from argparse or the app's widgets,
validated before anything runs, and saved with every checkpoint and result."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from cifar_core.data import DataOptions
from cifar_core.model_names import FIXED_SIZE_MODELS, MODEL_NAMES
from cifar_core.recipe import FAST_RECIPE
from cifar_core.resolution import parse_resize_schedule

OPTIMIZERS = ("adam", "sgd", "muon")  # muon: orthogonalised steps for conv filters, Nesterov SGD for the rest (cifar_core/muon.py)
SCHEDULERS = ("step", "onecycle", "cosine", "none")
AMP_MODES = ("off", "auto", "bf16", "fp16")  # auto: bf16 where the device computes it natively
PADDING_MODES = ("zeros", "reflect")


class ConfigError(ValueError):
    """A configuration a learner chose cannot run; lists every problem at once."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid training configuration: " + "; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class TrainConfig:
    data: DataOptions = field(default_factory=DataOptions)
    model: str = "simplecnn"
    pretrained: bool = False  # torchvision ResNets only; from the local cache, never downloaded
    epochs: int = 30
    batch_size: int = 128  # images per optimizer step (per process under DDP)
    lr: float = 1e-3  # peak learning rate
    optimizer: str = "adam"
    momentum: float = 0.9  # SGD, and Muon's non-filter parameters
    nesterov: bool = False  # SGD only (Muon always uses Nesterov momentum)
    muon_lr: float = FAST_RECIPE["muon_lr"]  # Muon only: peak step of a conv filter bank, relative to its norm
    muon_momentum: float = FAST_RECIPE["muon_momentum"]  # Muon only: momentum of the filters' gradients
    weight_decay: float = 0.0  # L2 coefficient passed to the optimizer
    scheduler: str = "step"
    step_size: int = 10  # epochs between StepLR decays
    gamma: float = 0.1  # StepLR decay factor
    warmup_epochs: float = 0.0  # linear warmup from lr/10 before the main schedule
    label_smoothing: float = 0.0  # epsilon of the smoothed target
    mixup_alpha: float = 0.0  # Beta(alpha, alpha); 0 disables mixup
    grad_clip: float | None = None  # max global L2 norm of the gradient
    crop_padding: int = 4  # pixels of padding before the random 32x32 crop; 0 disables
    padding_mode: str = "zeros"
    flip: bool = True  # random horizontal flip
    amp: str = "off"  # autocast dtype on the device; "auto" is bf16 where it is native (cifar_core/device.py)
    seed: int = 0
    deterministic: bool = False  # torch.use_deterministic_algorithms; slower
    num_workers: int = 2  # DataLoader worker processes (classic path only)
    device: str = "auto"  # auto, cpu, cuda, cuda:N, mps
    checkpoint_dir: str = "checkpoints"
    resume: str | None = None  # checkpoint path to continue from
    early_stopping_patience: int | None = None  # epochs without val improvement before stopping
    export_onnx: bool = False
    tensorboard: bool = False
    time_budget: float | None = None  # seconds for training plus final evaluation (fast path)
    tta: bool = False  # fast path: average the logits of each image and its mirror at evaluation
    tta_translate: bool = False  # fast path, with tta: add the mirror pairs moved one pixel (six views, cifar_core/tta.py)
    whiten: bool = False  # fast path: first conv set to the patch-whitening filters of the data, frozen
    resize_schedule: str = ""  # fast path: "16:0.3,24:0.6" = 16 px for 30% of the run, 24 px to 60%, then full size

    def problems(self) -> list[str]:
        """Every reason this configuration cannot run (empty when it can)."""
        checks = [
            (self.model in MODEL_NAMES, f"model must be one of {', '.join(MODEL_NAMES)}, not '{self.model}'"),
            (self.epochs >= 1, f"epochs must be at least 1, not {self.epochs}"),
            (self.batch_size >= 1, f"batch_size must be at least 1, not {self.batch_size}"),
            (0 < self.lr <= 10, f"lr must be in (0, 10], not {self.lr}"),
            (self.optimizer in OPTIMIZERS, f"optimizer must be one of {', '.join(OPTIMIZERS)}, not '{self.optimizer}'"),
            (self.scheduler in SCHEDULERS, f"scheduler must be one of {', '.join(SCHEDULERS)}, not '{self.scheduler}'"),
            (0 <= self.momentum < 1, f"momentum must be in [0, 1), not {self.momentum}"),
            (not self.nesterov or (self.optimizer != "adam" and self.momentum > 0), "nesterov needs sgd or muon with momentum > 0"),
            (0 < self.muon_lr <= 1, f"muon_lr must be in (0, 1], not {self.muon_lr}"),
            (0 <= self.muon_momentum < 1, f"muon_momentum must be in [0, 1), not {self.muon_momentum}"),
            (self.weight_decay >= 0, f"weight_decay must be >= 0, not {self.weight_decay}"),
            (self.step_size >= 1, f"step_size must be at least 1, not {self.step_size}"),
            (0 < self.gamma <= 1, f"gamma must be in (0, 1], not {self.gamma}"),
            (0 <= self.warmup_epochs < self.epochs, f"warmup_epochs must be in [0, epochs), not {self.warmup_epochs}"),
            (0 <= self.label_smoothing < 1, f"label_smoothing must be in [0, 1), not {self.label_smoothing}"),
            (self.mixup_alpha >= 0, f"mixup_alpha must be >= 0, not {self.mixup_alpha}"),
            (self.grad_clip is None or self.grad_clip > 0, f"grad_clip must be > 0, not {self.grad_clip}"),
            (0 <= self.crop_padding <= 16, f"crop_padding must be 0-16 pixels, not {self.crop_padding}"),
            (self.padding_mode in PADDING_MODES, f"padding_mode must be zeros or reflect, not '{self.padding_mode}'"),
            (self.amp in AMP_MODES, f"amp must be one of {', '.join(AMP_MODES)}, not '{self.amp}'"),
            (self.num_workers >= 0, f"num_workers must be >= 0, not {self.num_workers}"),
            (self.early_stopping_patience is None or self.early_stopping_patience >= 1, "early_stopping_patience must be >= 1"),
            (self.time_budget is None or self.time_budget >= 5, f"time_budget must be at least 5 seconds, not {self.time_budget}"),
            (0 < self.data.val_split < 1, f"val_split must be in (0, 1), not {self.data.val_split}"),
            (self.data.subset is None or self.data.subset >= 10, "subset must keep at least 10 images"),
            (not self.pretrained or self.model in ("resnet18", "resnet50"), "pretrained weights exist only for resnet18 and resnet50"),
        ]
        problems = [message for ok, message in checks if not ok]
        if self.resize_schedule:
            try:
                parse_resize_schedule(self.resize_schedule)
            except ValueError as error:
                problems.append(str(error))
            if self.model in FIXED_SIZE_MODELS:
                problems.append(f"resize_schedule needs a model with global pooling; {self.model} takes 32x32 images only")
        return problems

    def validated(self) -> TrainConfig:
        problems = self.problems()
        if problems:
            raise ConfigError(problems)
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TrainConfig:
        """Inverse of to_dict; unknown keys (from newer versions) are ignored."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in raw.items() if k in known}
        if isinstance(values.get("data"), dict):
            data_known = {f.name for f in fields(DataOptions)}
            values["data"] = DataOptions(**{k: v for k, v in values["data"].items() if k in data_known})
        return cls(**values)
