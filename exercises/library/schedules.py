"""Learning-rate schedules as formulas, checked against torch's schedulers step by step."""

from exercises.library import code
from exercises.library.kit import cases_check, variant
from exercises.model import Exercise, Mistake


def _step_lr_early(epoch, base_lr, step_size, gamma):
    return base_lr * gamma ** ((epoch + 1) // step_size)


def _step_lr_true_division(epoch, base_lr, step_size, gamma):
    return base_lr * gamma ** (epoch / step_size)


def _step_lr_every_epoch(epoch, base_lr, step_size, gamma):
    return base_lr * gamma**epoch


_LR = {"rtol": 1e-6, "atol": 1e-12}


def _step_lr_checks(rng):
    meaning = "lr = base_lr * gamma ** (epoch // step_size): the first decay comes at epoch step_size, not before"
    mistakes = (
        variant(_step_lr_early, "one epoch early: the first decay comes at epoch step_size, so use epoch // step_size"),
        variant(_step_lr_true_division, "the LR drops in steps: use floor division, epoch // step_size, not /"),
        variant(_step_lr_every_epoch, "the LR decays once every step_size epochs, not every epoch"),
    )
    checks = []
    for _ in range(3):
        base_lr, step_size, gamma = round(rng.uniform(0.01, 1.0), 4), rng.randint(2, 9), round(rng.uniform(0.1, 0.9), 2)
        epochs = [(epoch, base_lr, step_size, gamma) for epoch in range(3 * step_size + 2)]
        checks.append(
            cases_check(
                f"StepLR(step_size={step_size}, gamma={gamma}), every epoch from 0", "step_lr", epochs, meaning, variants=mistakes, **_LR
            )
        )
    checks.append(
        cases_check("step_size 1: a decay every epoch", "step_lr", [(e, 0.1, 1, 0.5) for e in range(6)], meaning, variants=mistakes, **_LR)
    )
    return checks


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
    checks=_step_lr_checks,
    mistakes=(
        Mistake(
            "decaying one epoch early",
            code("""
            def step_lr(epoch, base_lr, step_size, gamma):
                return base_lr * gamma ** ((epoch + 1) // step_size)
        """),
            "first decay comes at epoch step_size",
        ),
    ),
    items=("viva-10-scheduler-used-change-learning-rate", "viva-13-script-calls-scheduler-step-after"),
)


# ---------------------------------------------------------------- OneCycle


def _one_cycle_variant(warmup_end, final_lr, last_offset: int = 1):
    """A wrong one_cycle_lr: where the warmup ends, what the final LR is, where the last step is."""
    import math

    def one_cycle_lr(step, total_steps, max_lr, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
        initial = max_lr / div_factor
        end = warmup_end(pct_start, total_steps)
        last = total_steps - last_offset

        def anneal(start, stop, fraction):
            return stop + (start - stop) / 2 * (1 + math.cos(math.pi * fraction))

        if step <= end:
            return anneal(initial, max_lr, step / end)
        return anneal(max_lr, final_lr(initial, max_lr, final_div_factor), (step - end) / (last - end))

    return one_cycle_lr


def _one_cycle_checks(rng):
    meaning = (
        "warm up from max_lr / div_factor to max_lr until step pct_start * total_steps - 1, then anneal to "
        "max_lr / div_factor / final_div_factor at step total_steps - 1, both with a cosine (OneCycleLR's anneal_strategy='cos')"
    )
    right_end = lambda pct, total: pct * total - 1  # noqa: E731
    right_final = lambda initial, max_lr, final_div: initial / final_div  # noqa: E731
    mistakes = (
        variant(
            _one_cycle_variant(lambda pct, total: pct * total, right_final),
            "the warmup ends at step pct_start * total_steps - 1 (steps count from 0)",
        ),
        variant(
            _one_cycle_variant(right_end, lambda initial, max_lr, final_div: max_lr / final_div),
            "the final LR is initial_lr / final_div_factor, where initial_lr = max_lr / div_factor",
        ),
        variant(_one_cycle_variant(right_end, right_final, last_offset=0), "the last step is total_steps - 1: the schedule ends there"),
    )
    linear = "both phases follow a cosine: end + (start - end) / 2 * (1 + cos(pi * fraction)), not a straight line"
    checks = []
    for _ in range(3):
        total, max_lr = rng.randint(20, 120), round(rng.uniform(0.05, 3.0), 3)
        pct, div, final = round(rng.uniform(0.2, 0.45), 2), rng.choice([10.0, 25.0, 30.0]), rng.choice([100.0, 1e3, 1e4])
        steps = [(step, total, max_lr, pct, div, final) for step in range(total)]
        name = (
            f"OneCycleLR(max_lr={max_lr}, total_steps={total}, pct_start={pct}, div_factor={div:g}, final_div_factor={final:g}), every step"
        )
        checks.append(cases_check(name, "one_cycle_lr", steps, meaning, variants=(*mistakes, variant(_linear_one_cycle, linear)), **_LR))
    total, max_lr = rng.randint(20, 60), round(rng.uniform(0.05, 3.0), 3)
    defaults = "keep the signature's defaults: pct_start=0.3, div_factor=25.0, final_div_factor=1e4"
    name = f"the defaults (pct_start 0.3, div_factor 25, final_div_factor 1e4), {total} steps"
    checks.append(cases_check(name, "one_cycle_lr", [(step, total, max_lr) for step in range(total)], defaults, variants=mistakes, **_LR))
    return checks


def _linear_one_cycle(step, total_steps, max_lr, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
    initial = max_lr / div_factor
    end, last = pct_start * total_steps - 1, total_steps - 1
    if step <= end:
        return initial + (max_lr - initial) * step / end
    return max_lr + (initial / final_div_factor - max_lr) * (step - end) / (last - end)


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
    checks=_one_cycle_checks,
    mistakes=(Mistake("linear ramps instead of cosine", _one_cycle_code("return start + (end - start) * fraction"), "cosine"),),
    items=("resnet-13-one-cycle-policy", "resnet-14-benefits-fit-one-cycle", "resnet-46-compute-len-train-loader"),
)


# ---------------------------------------------------------------- warmup then cosine


def _warmup_variant(warmup, progress):
    import math

    def warmup_cosine_lr(step, total_steps, warmup_steps, base_lr, start_factor=0.1):
        if step < warmup_steps:
            return warmup(step, warmup_steps, base_lr, start_factor)
        return base_lr * (1 + math.cos(math.pi * progress(step, total_steps, warmup_steps))) / 2

    return warmup_cosine_lr


def _warmup_cosine_checks(rng):
    meaning = (
        "linear warmup from base_lr * start_factor to base_lr over warmup_steps (LinearLR), then a cosine from base_lr "
        "to 0 over the remaining total_steps - warmup_steps steps (CosineAnnealingLR), joined by SequentialLR"
    )
    right_warmup = lambda step, w, lr, f: lr * (f + (1 - f) * step / w)  # noqa: E731
    right_progress = lambda step, total, w: (step - w) / (total - w)  # noqa: E731
    mistakes = (
        variant(
            _warmup_variant(lambda step, w, lr, f: lr * step / w, right_progress), "the warmup starts at base_lr * start_factor, not at 0"
        ),
        variant(
            _warmup_variant(right_warmup, lambda step, total, w: step / total),
            "the cosine runs over the steps after the warmup: progress = (step - warmup_steps) / (total_steps - warmup_steps)",
        ),
        variant(
            _warmup_variant(lambda step, w, lr, f: lr * (0.1 + 0.9 * step / w), right_progress),
            "use the start_factor you are given, not 0.1",
        ),
        variant(
            _warmup_variant(right_warmup, lambda step, total, w: 2 * (step - w) / (total - w)),
            "the cosine part is base_lr * (1 + cos(pi * progress)) / 2",
        ),
    )
    checks = []
    for _ in range(3):
        total, warmup = rng.randint(20, 80), rng.randint(2, 10)
        base_lr, factor = round(rng.uniform(0.01, 1.0), 4), rng.choice([0.01, 0.1, 0.25, 0.5])
        steps = [(step, total, warmup, base_lr, factor) for step in range(total)]
        checks.append(
            cases_check(
                f"{warmup} warmup steps from {factor} x base_lr, then cosine, {total} steps",
                "warmup_cosine_lr",
                steps,
                meaning,
                variants=mistakes,
                **_LR,
            )
        )
    total, warmup, base_lr = rng.randint(20, 60), rng.randint(2, 8), round(rng.uniform(0.01, 1.0), 4)
    steps = [(step, total, warmup, base_lr) for step in range(total)]
    default = "keep the signature's default start_factor=0.1"
    checks.append(cases_check("start_factor left at its default, 0.1", "warmup_cosine_lr", steps, default, variants=mistakes, **_LR))
    return checks


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
    checks=_warmup_cosine_checks,
    mistakes=(Mistake("the cosine without the factor 1/2", _warmup_code("base_lr * (1 + math.cos(math.pi * progress))"), "cosine"),),
    items=("viva-41-could-implement-learning-rate-warmup", "resnet-36-high-learning-rate-risky-without"),
)

EXERCISES = (STEP_LR, ONE_CYCLE, WARMUP_COSINE)
