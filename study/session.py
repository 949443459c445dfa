"""One sitting of reviews, for the summary at its end: how many cards, how long, how often Again."""

from __future__ import annotations

from dataclasses import dataclass, field

from fsrs import Rating


@dataclass
class ReviewSession:
    ratings: list[Rating] = field(default_factory=list)
    durations_ms: list[int] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.ratings)

    def record(self, rating: Rating, duration_ms: int) -> None:
        self.ratings.append(rating)
        self.durations_ms.append(max(0, duration_ms))

    def forget_last(self) -> None:
        """The last rating was undone."""
        if self.ratings:
            self.ratings.pop()
            self.durations_ms.pop()

    @property
    def again_rate(self) -> float:
        return sum(r is Rating.Again for r in self.ratings) / self.count if self.count else 0.0

    def summary(self) -> str:
        minutes, seconds = divmod(round(sum(self.durations_ms) / 1000), 60)
        cards = f"{self.count} card{'s' if self.count != 1 else ''}"
        return f"{cards} in {minutes} min {seconds:02d} s, Again {self.again_rate:.0%}"
