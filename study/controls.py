"""Anki's everyday controls over a card: lapses and leeches, suspend, bury until tomorrow, flags.

Each follows the Anki manual (https://docs.ankiweb.net/, pages named below):
- leeches.md: "Each time a review card lapses (is failed while it is in review mode), a counter
  increases. When this counter reaches 8, Anki tags the note as a leech and suspends the card.
  The threshold, and whether to suspend or not, can be adjusted." Later warnings "occur at half
  the initial leech threshold ... at 12, 16, and so on".
- studying.md, Editing and More: Bury "hides a card ... from review until the next day";
  Suspend hides it "until they are manually unsuspended". Siblings and Burying: "a card cannot be
  buried and suspended at the same time. Suspending a buried card will unbury it. Suspended cards
  can't be buried."
- editing.md, Using Flags: "a single card can have only one flag at a time"; Ctrl+1-7.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from fsrs import Card, Rating, State

LEECH_TAG = "leech"
FLAGS = {0: "No flag", 1: "Red", 2: "Orange", 3: "Green", 4: "Blue", 5: "Pink", 6: "Turquoise", 7: "Purple"}


@dataclass(frozen=True)
class CardMeta:
    """What Anki keeps beside a card's memory state."""

    lapses: int = 0
    tags: tuple[str, ...] = ()
    suspended: bool = False
    buried_until: datetime | None = None
    flag: int = 0  # a key of FLAGS

    @property
    def leech(self) -> bool:
        return LEECH_TAG in self.tags

    def hidden(self, now: datetime) -> bool:
        """Left out of every queue: suspended, or buried and the day has not yet turned."""
        return self.suspended or (self.buried_until is not None and now < self.buried_until)


def is_hidden(meta: Mapping[str, CardMeta], item_id: str, now: datetime) -> bool:
    """Whether the item is kept from study now: suspended or buried (a card never studied has no meta)."""
    return item_id in meta and meta[item_id].hidden(now)


def is_lapse(before: Card | None, rating: Rating) -> bool:
    """Again on a card in review; Again during (re)learning steps is no lapse."""
    return before is not None and before.state == State.Review and rating == Rating.Again


def is_leech_warning(lapses: int, threshold: int) -> bool:
    """At the threshold, then every half threshold after it (8, 12, 16... for 8)."""
    step = max(1, threshold // 2)
    return lapses >= threshold and (lapses - threshold) % step == 0


def after_review(meta: CardMeta, before: Card | None, rating: Rating, threshold: int, suspend_leech: bool) -> tuple[CardMeta, bool]:
    """The card's meta after a review, and whether this review made (or re-warned) a leech."""
    if not is_lapse(before, rating):
        return meta, False
    lapses = meta.lapses + 1
    if not is_leech_warning(lapses, threshold):
        return replace(meta, lapses=lapses), False
    tags = meta.tags if meta.leech else (*meta.tags, LEECH_TAG)
    leech = replace(meta, lapses=lapses, tags=tags)
    return (suspend(leech) if suspend_leech else leech), True


def next_day_start(now: datetime) -> datetime:
    """When a card buried now comes back: the start of the next (UTC) day, the app's day boundary."""
    return now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)


def bury(meta: CardMeta, now: datetime) -> CardMeta:
    if meta.suspended:
        raise ValueError("a suspended card cannot be buried (Anki: suspended cards can't be buried)")
    return replace(meta, buried_until=next_day_start(now))


def suspend(meta: CardMeta) -> CardMeta:
    return replace(meta, suspended=True, buried_until=None)  # suspending a buried card unburies it


def unsuspend(meta: CardMeta) -> CardMeta:
    return replace(meta, suspended=False)


def set_flag(meta: CardMeta, flag: int) -> CardMeta:
    if flag not in FLAGS:
        raise ValueError(f"flag must be 0-7 (one of {', '.join(FLAGS.values())}), not {flag!r}")
    return replace(meta, flag=flag)


def tags_text(tags: tuple[str, ...]) -> str:
    return " ".join(tags)


def parse_tags(text: str) -> tuple[str, ...]:
    return tuple(text.split())
