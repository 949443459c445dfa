"""Reproducibility: what seeding covers, where run-to-run variance comes from, and resuming from a
checkpoint (cifar_core's seed_everything and main()'s resume, against an uninterrupted run)."""

import contextlib
import io
import random
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from cifar_core.augment import flip_batch
from cifar_core.reproducibility import seed_everything
from proofs.registry import DemoResult, Param, demo


def _draws() -> tuple[float, list[int], torch.Tensor]:
    """One draw from each generator a training script uses: Python's random (a sampler's choice), NumPy (a
    shuffle or augmentation written with NumPy) and torch (initial weights, dropout, torchvision's transforms)."""
    return random.random(), np.random.permutation(8).tolist(), nn.Linear(4, 2).weight.detach().clone()


@demo(
    "same-seed-same-weights",
    "Seed every generator: seed_everything",
    "torch.manual_seed (and torch.cuda.manual_seed) fix torch's draws only; Python's random and NumPy keep their "
    "own generators, so a script seeding torch alone still varies wherever it uses them. cifar_core's seed_everything "
    "seeds all three and, asked for determinism, also switches torch to deterministic kernels (cuDNN included).",
    Param("seed", 0, 0, 10_000),
    mistake="seeding torch only (torch.manual_seed), as the original script does",
)
def same_seed(seed: int, broken: bool = False) -> DemoResult:
    result = DemoResult()

    def seeded_run() -> tuple[float, list[int], torch.Tensor]:
        if broken:
            torch.manual_seed(seed)
        else:
            seed_everything(seed)
        return _draws()

    first = seeded_run()
    random.seed(None)  # something else in the program moved the other generators in between
    np.random.seed(None)
    second = seeded_run()
    result.check(
        "two seeded runs draw the same from Python's random, NumPy and torch",
        first[0] == second[0] and first[1] == second[1] and torch.equal(first[2], second[2]),
        python_random=f"{first[0]:.6f} / {second[0]:.6f}",
        numpy=f"{first[1]} / {second[1]}",
        torch_equal=str(torch.equal(first[2], second[2])),
    )
    before = (torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    try:
        seed_everything(seed, deterministic=True)
        switches = (torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    finally:
        torch.use_deterministic_algorithms(before[0])
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = before[1], before[2]
    result.check(
        "deterministic=True: deterministic algorithms on, cudnn.deterministic on, cudnn.benchmark off",
        switches == (True, True, False),
        switches=str(switches),
    )
    return result


def _train_run(init_seed: int, order_seed: int, dropout_seed: int, augment_seed: int) -> torch.Tensor:
    """Three epochs of a small model; each source of randomness drawn from its own seeded generator."""
    data = torch.Generator().manual_seed(99)
    images, labels = torch.randn(64, 1, 4, 4, generator=data), torch.randint(0, 2, (64,), generator=data)
    torch.manual_seed(init_seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loader = DataLoader(TensorDataset(images, labels), batch_size=16, shuffle=True, generator=torch.Generator().manual_seed(order_seed))
    coins = torch.Generator().manual_seed(augment_seed)
    torch.manual_seed(dropout_seed)  # dropout draws from torch's global generator
    for _ in range(3):
        for batch, targets in loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(flip_batch(batch, coins)), targets).backward()
            optimizer.step()
    return torch.cat([p.detach().flatten() for p in model.parameters()])


@demo(
    "randomness-sources",
    "Where run-to-run variance comes from",
    "Weight initialisation, the shuffle order of batches, dropout masks and augmentation each draw random numbers: "
    "changing any one of them alone changes the trained weights, and only when all are seeded do two runs end "
    "bit-identical (on the CPU; GPU kernels also need deterministic algorithms).",
    mistake="one source left unseeded: the DataLoader's shuffle order drawn afresh each run",
    threads=1,
)
def randomness_sources(broken: bool = False) -> DemoResult:
    result = DemoResult()
    seeds = {"init": 0, "order": 1, "dropout": 2, "augment": 3}
    reference = _train_run(*seeds.values())
    fresh_order = int(torch.randint(0, 2**31, (1,), generator=torch.Generator().manual_seed(torch.seed())).item())
    repeat = _train_run(seeds["init"], fresh_order if broken else seeds["order"], seeds["dropout"], seeds["augment"])
    result.check(
        "every seed fixed: two runs end with identical weights",
        torch.equal(reference, repeat),
        max_difference=(reference - repeat).abs().max(),
    )
    changed = {}
    for source in seeds:
        varied = _train_run(*[value + 10 if name == source else value for name, value in seeds.items()])
        changed[source] = (varied - reference).abs().max().item()
    result.check(
        "changing any one source alone changes the weights",
        min(changed.values()) > 1e-4,
        **{f"{source}_changes_weights_by": gap for source, gap in changed.items()},
    )
    return result


@demo(
    "save-resume-next-step",
    "Saving model and optimizer gives the same next step",
    "Restoring both state dicts (momentum included) makes the next update identical; the model alone does not.",
    mistake="a checkpoint with the model's state_dict only",
)
def save_resume(broken: bool = False) -> DemoResult:
    import io as bytes_io

    result = DemoResult()
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = torch.randn(8, 4)

    def step(m, o):
        o.zero_grad()
        m(x).pow(2).mean().backward()
        o.step()

    step(model, optimizer)
    buffer = bytes_io.BytesIO()
    saved = {"model": model.state_dict()} if broken else {"model": model.state_dict(), "optimizer": optimizer.state_dict()}
    torch.save(saved, buffer)
    step(model, optimizer)
    expected = model.weight.detach().clone()
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)
    for restore_optimizer in (True, False):
        fresh = nn.Linear(4, 1)
        fresh.load_state_dict(state["model"])
        fresh_optimizer = torch.optim.SGD(fresh.parameters(), lr=0.1, momentum=0.9)
        if restore_optimizer and "optimizer" in state:
            fresh_optimizer.load_state_dict(state["optimizer"])
        step(fresh, fresh_optimizer)
        same = torch.allclose(fresh.weight, expected, atol=1e-7)
        if restore_optimizer:
            result.check("model + optimizer: identical next step", same)
        else:
            result.check("model only: the momentum is lost, the step differs", not same)
    return result


class _Interrupted(Exception):
    """Stands for the run being killed (a crash, a closed laptop) right after a checkpoint was written."""


def _main_quietly(cfg, stop_after_saves: int | None = None) -> object:
    """main() without its printout or its plot; with stop_after_saves, killed after that many checkpoints."""
    from cifar_core import train as script

    plot, save, saves = script.plot_curves, script.save_checkpoint, []

    def save_then_maybe_stop(*args) -> None:
        save(*args)
        saves.append(1)
        if stop_after_saves is not None and len(saves) == stop_after_saves:
            raise _Interrupted

    script.plot_curves = lambda history, out_dir: None  # matplotlib is not what this demo is about
    script.save_checkpoint = save_then_maybe_stop
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return script.main(cfg)
    finally:
        script.plot_curves, script.save_checkpoint = plot, save


@demo(
    "resume-matches-uninterrupted",
    "Resuming main() from checkpoint.pth repeats the uninterrupted run",
    "main(--resume checkpoint.pth) restores the model, the optimizer (its momentum and Adam moments) and the "
    "scheduler, loads the file with weights_only=True, and starts at the saved epoch + 1; each epoch's random draws "
    "depend only on (seed, epoch), so a 3-epoch run stopped after epoch 2 and resumed ends with the same weights as "
    "3 epochs in one go (here with One Cycle, whose learning rate follows the step count kept in the scheduler).",
    mistake="restoring model and optimizer but not the scheduler, so the learning-rate schedule starts over",
)
def resume_matches_uninterrupted(broken: bool = False) -> DemoResult:
    from cifar_core.checkpoint import load_checkpoint
    from cifar_core.config import DataOptions, TrainConfig

    result = DemoResult()
    data = DataOptions(dataset="synthetic", synthetic_size=60)
    base = {"data": data, "batch_size": 32, "num_workers": 0, "scheduler": "onecycle", "lr": 1e-2}  # One Cycle: LR set per batch
    with tempfile.TemporaryDirectory() as straight, tempfile.TemporaryDirectory() as interrupted:
        _main_quietly(TrainConfig(epochs=3, checkpoint_dir=straight, **base))
        with contextlib.suppress(_Interrupted):
            _main_quietly(TrainConfig(epochs=3, checkpoint_dir=interrupted, **base), stop_after_saves=2)
        checkpoint = Path(interrupted) / "checkpoint.pth"
        if broken:
            state = load_checkpoint(checkpoint)
            state["scheduler"] = None
            torch.save(state, checkpoint)
        _main_quietly(TrainConfig(epochs=3, checkpoint_dir=interrupted, resume=str(checkpoint), **base))
        one_go, resumed = load_checkpoint(Path(straight) / "checkpoint.pth"), load_checkpoint(checkpoint)
    gap = max((one_go["state_dict"][k].float() - resumed["state_dict"][k].float()).abs().max().item() for k in one_go["state_dict"])
    result.check(
        "stopped after epoch 2 and resumed = 3 epochs in one go: same weights, same learning rates",
        gap == 0.0 and one_go["history"]["lr"] == resumed["history"]["lr"],
        max_weight_difference=gap,
        lrs_in_one_go=str(one_go["history"]["lr"]),
        lrs_resumed=str(resumed["history"]["lr"]),
    )
    return result
