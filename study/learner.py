"""A learner's study settings: desired retention, the viva date and its daily load, Anki's limits
and leech handling. Stored per profile as JSON (the store's learner_settings table)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from datetime import date

RETENTION_RANGE = (0.70, 0.97)  # Anki: above 0.97 the workload "can be overwhelming"
DATES = ("viva_date", "plan_start")


@dataclass(frozen=True)
class LearnerSettings:
    desired_retention: float = 0.9  # probability of recall when a card falls due (FSRS)
    viva_date: date | None = None  # the day of the viva; None: no plan, normal scheduling
    plan_start: date | None = None  # the day the viva date was set: new cards are spread from here
    new_per_day: int = 20  # new cards a day without a plan (Anki's default)
    plan_new_per_day: int | None = None  # the learner's own plan pace; None: the pace the plan needs
    max_reviews_per_day: int = 200  # Anki's default; the review limit also holds back new cards, as Anki's does
    leech_threshold: int = 8  # lapses that make a card a leech (Anki's default)
    leech_suspend: bool = True  # Anki's leech action: suspend the card (True) or only tag it
    load_balance: bool = True  # spread review dates within Anki's fuzz range (see study/scheduling.py)
    refit_every: int = 250  # reviews between automatic refits of the learner's FSRS parameters
    final_pass_cards: int = 30  # at most this many weakest cards in the pass the day before the viva

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ValueError("; ".join(problems))

    def problems(self) -> list[str]:
        """Every out-of-range field, named, so a bad settings row is fixed in one go."""
        low, high = RETENTION_RANGE
        checks = [
            (low <= self.desired_retention <= high, f"desired_retention: {self.desired_retention} is outside {low:.2f}-{high:.2f}"),
            (self.new_per_day >= 0, f"new_per_day: {self.new_per_day} is negative"),
            (self.plan_new_per_day is None or self.plan_new_per_day >= 1, f"plan_new_per_day: {self.plan_new_per_day} is below 1"),
            (self.max_reviews_per_day >= 1, f"max_reviews_per_day: {self.max_reviews_per_day} is below 1"),
            (self.leech_threshold >= 1, f"leech_threshold: {self.leech_threshold} is below 1"),
            (self.refit_every >= 1, f"refit_every: {self.refit_every} is below 1"),
            (self.final_pass_cards >= 0, f"final_pass_cards: {self.final_pass_cards} is negative"),
        ]
        return [message for ok, message in checks if not ok]

    def with_viva_date(self, viva: date | None, today: date) -> LearnerSettings:
        """A new or changed date starts a new plan today; the same date keeps its start."""
        return self if viva == self.viva_date else replace(self, viva_date=viva, plan_start=today if viva else None)

    def to_dict(self) -> dict:
        data = asdict(self)
        for name in DATES:
            data[name] = data[name].isoformat() if data[name] else None
        return data

    @classmethod
    def from_dict(cls, data: dict) -> LearnerSettings:
        """Unknown keys are ignored (a newer app's setting); a bad value raises ValueError naming it."""
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        for name in DATES:
            if values.get(name):
                try:
                    values[name] = date.fromisoformat(values[name])
                except ValueError:
                    raise ValueError(f"{name}: {values[name]!r} is not a YYYY-MM-DD date") from None
        return cls(**values)
