"""Learning-rate schedules as formulas, checked against torch's schedulers step by step."""

from exercises.library import code
from exercises.model import Exercise, Mistake


def _torch_lrs(make_scheduler, steps: int, base_lr: float) -> list[float]:
    """The LR torch's scheduler gives at steps 0 .. steps - 1."""
    import torch

    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base_lr)
    scheduler = make_scheduler(optimizer)
    lrs = []
    for _ in range(steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


def _compare_schedule(report, name: str, learner, expected: list[float], args, meaning: str) -> None:
    def body():
        got = [float(report.call(learner, step, *args)) for step in range(len(expected))]
        first_wrong = next((i for i, (g, e) in enumerate(zip(got, expected, strict=True)) if abs(g - e) > 1e-9 + 1e-6 * abs(e)), None)
        if first_wrong is None:
            return True, expected[:6], got[:6], meaning
        return False, f"step {first_wrong}: {expected[first_wrong]:.6g}", f"step {first_wrong}: {got[first_wrong]:.6g}", meaning

    report.check(name, body, if_error=meaning)


# ---------------------------------------------------------------- StepLR


def _check_step_lr(learner, _reference, report) -> None:
    import torch

    meaning = "lr = base_lr * gamma ** (epoch // step_size): the first decay comes at epoch step_size, not before"
    for base_lr, step_size, gamma in ((0.1, 3, 0.1), (0.05, 1, 0.5), (1.0, 10, 0.2)):
        expected = _torch_lrs(lambda o, s=step_size, g=gamma: torch.optim.lr_scheduler.StepLR(o, s, g), 25, base_lr)
        _compare_schedule(
            report, f"StepLR(step_size={step_size}, gamma={gamma}) for 25 epochs", learner, expected, (base_lr, step_size, gamma), meaning
        )


STEP_LR = Exercise(
    id="step-lr",
    title="StepLR's learning rate at epoch t",
    function="step_lr",
    prompt="Write `step_lr(epoch, base_lr, step_size, gamma)`: the learning rate `torch.optim.lr_scheduler.StepLR` gives during epoch `epoch` (counting from 0), when stepped once per epoch.\n",
    starter=code("""
        def step_lr(epoch, base_lr, step_size, gamma):
            raise NotImplementedError("the LR at this epoch")
    """),
    solution=code("""
        def step_lr(epoch, base_lr, step_size, gamma):
            return base_lr * gamma ** (epoch // step_size)  # one decay every step_size epochs
    """),
    hint="Count how many whole step_size periods have passed.",
    checks=_check_step_lr,
    mistakes=(
        Mistake(
            "decaying one epoch early",
            code("""
            def step_lr(epoch, base_lr, step_size, gamma):
                return base_lr * gamma ** ((epoch + 1) // step_size)
        """),
            "step_size, not before",
        ),
    ),
    items=("viva-10-scheduler-used-change-learning-rate", "viva-13-script-calls-scheduler-step-after"),
)


# ---------------------------------------------------------------- OneCycle


def _check_one_cycle(learner, _reference, report) -> None:
    import torch

    meaning = (
        "warm up from max_lr / div_factor to max_lr over pct_start of the steps, then anneal to "
        "initial_lr / final_div_factor, both with a cosine (OneCycleLR's anneal_strategy='cos')"
    )
    for total, max_lr, pct in ((100, 0.1, 0.3), (37, 2.0, 0.25)):
        make = lambda o, t=total, m=max_lr, p=pct: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=m, total_steps=t, pct_start=p)  # noqa: E731
        expected = _torch_lrs(make, total, max_lr)
        _compare_schedule(
            report, f"OneCycleLR(max_lr={max_lr}, total_steps={total}, pct_start={pct})", learner, expected, (total, max_lr, pct), meaning
        )


def _one_cycle_code(anneal: str) -> str:
    return code(f"""
        import math


        def one_cycle_lr(step, total_steps, max_lr, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
            initial_lr = max_lr / div_factor
            final_lr = initial_lr / final_div_factor
            warmup_end = float(pct_start * total_steps) - 1  # OneCycleLR's phase boundary, in steps
            last = total_steps - 1

            def anneal(start, end, fraction):
                {anneal}

            if step <= warmup_end:
                return anneal(initial_lr, max_lr, step / warmup_end)
            return anneal(max_lr, final_lr, (step - warmup_end) / (last - warmup_end))
    """)


ONE_CYCLE = Exercise(
    id="one-cycle-lr",
    title="OneCycleLR's learning rate at step t",
    function="one_cycle_lr",
    prompt=code("""
        Write `one_cycle_lr(step, total_steps, max_lr, pct_start=0.3, div_factor=25.0, final_div_factor=1e4)`:
        the learning rate `torch.optim.lr_scheduler.OneCycleLR` (cosine annealing, two phases) gives at
        `step`. It starts at `max_lr / div_factor`, rises to `max_lr` at step `pct_start * total_steps - 1`,
        and falls to `max_lr / div_factor / final_div_factor` at the last step, `total_steps - 1`.
    """),
    starter=code("""
        import math


        def one_cycle_lr(step, total_steps, max_lr, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
            raise NotImplementedError("the LR at this step")
    """),
    solution=_one_cycle_code("return end + (start - end) / 2 * (1 + math.cos(math.pi * fraction))  # cosine from start to end"),
    hint="Cosine annealing from a to b over a phase: b + (a - b) / 2 * (1 + cos(pi * fraction)).",
    checks=_check_one_cycle,
    mistakes=(Mistake("linear ramps instead of cosine", _one_cycle_code("return start + (end - start) * fraction"), "cosine"),),
    items=("resnet-13-one-cycle-policy", "resnet-14-benefits-fit-one-cycle", "resnet-46-compute-len-train-loader"),
)


# ---------------------------------------------------------------- warmup then cosine


def _check_warmup_cosine(learner, _reference, report) -> None:
    import torch

    meaning = (
        "linear warmup from base_lr * start_factor to base_lr over warmup_steps (LinearLR), then a cosine from base_lr "
        "to 0 over the remaining steps (CosineAnnealingLR), joined by SequentialLR"
    )
    for total, warmup, base_lr in ((50, 5, 0.1), (20, 4, 1.0)):

        def make(optimizer, t=total, w=warmup):
            warm = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=w)
            cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=t - w)
            return torch.optim.lr_scheduler.SequentialLR(optimizer, [warm, cosine], milestones=[w])

        expected = _torch_lrs(make, total, base_lr)
        _compare_schedule(
            report, f"{warmup} warmup steps, then cosine, {total} steps", learner, expected, (total, warmup, base_lr), meaning
        )


def _warmup_code(cosine: str) -> str:
    return code(f"""
        import math


        def warmup_cosine_lr(step, total_steps, warmup_steps, base_lr, start_factor=0.1):
            if step < warmup_steps:  # linear from start_factor * base_lr up to base_lr
                return base_lr * (start_factor + (1 - start_factor) * step / warmup_steps)
            progress = (step - warmup_steps) / (total_steps - warmup_steps)
            return {cosine}
    """)


WARMUP_COSINE = Exercise(
    id="warmup-cosine-lr",
    title="Linear warmup, then cosine decay",
    function="warmup_cosine_lr",
    prompt=code("""
        Write `warmup_cosine_lr(step, total_steps, warmup_steps, base_lr, start_factor=0.1)`: the learning
        rate of `LinearLR(start_factor=0.1, total_iters=warmup_steps)` followed by
        `CosineAnnealingLR(T_max=total_steps - warmup_steps)` (joined with `SequentialLR`), at `step`.
    """),
    starter=code("""
        import math


        def warmup_cosine_lr(step, total_steps, warmup_steps, base_lr, start_factor=0.1):
            raise NotImplementedError("the LR at this step")
    """),
    solution=_warmup_code("base_lr * (1 + math.cos(math.pi * progress)) / 2"),
    hint="Warmup is a straight line; the cosine part is base_lr * (1 + cos(pi * progress)) / 2.",
    checks=_check_warmup_cosine,
    mistakes=(Mistake("the cosine without the factor 1/2", _warmup_code("base_lr * (1 + math.cos(math.pi * progress))"), "cosine"),),
    items=("viva-41-could-implement-learning-rate-warmup", "resnet-36-high-learning-rate-risky-without"),
)

EXERCISES = (STEP_LR, ONE_CYCLE, WARMUP_COSINE)
