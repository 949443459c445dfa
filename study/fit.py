"""FSRS fitted to each learner: py-fsrs's Optimizer on the review log the store keeps, judged as
Anki's "Evaluate" judges parameters (log loss and RMSE of the predicted recall against what
happened), and refitted on its own every N reviews (in a process of its own: study/refits.py).

Below the optimizer's minimum (512 interday reviews: py-fsrs returns the defaults under one
mini-batch) a learner keeps the parameters fitted on the whole class (hosted) or FSRS's defaults.
torch is imported only when a fit runs (the optimizer needs it), never by the app's pages."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from fsrs import Card, Rating, ReviewLog, Scheduler

from study.scheduling import card_id_for

MIN_INTERDAY_REVIEWS = 512  # py-fsrs's mini-batch: fewer interday reviews and its optimizer returns the defaults
CLASS_REFIT_EVERY = 1000  # class reviews between refits of the class's parameters
RMSE_BINS = 20  # predicted recall is binned in twentieths for the RMSE


@dataclass(frozen=True)
class Evaluation:
    """How well parameters predict a review log: Anki's Evaluate figures."""

    log_loss: float  # mean binary cross-entropy of predicted recall against recalled (not Again)
    rmse: float  # RMSE of predicted against observed recall over RMSE_BINS bins of prediction, weighted by count
    reviews: int  # interday reviews scored (a card's first review and same-day repeats predict nothing)


@dataclass(frozen=True)
class FitReport:
    reviews: int  # flashcard reviews in the log
    interday_reviews: int
    fitted: bool  # the optimizer ran (enough interday reviews)
    saved: bool  # the fitted parameters predict the log better than those in use, so they replace them
    source_before: str  # where the parameters in use came from: learner, class or defaults
    log_loss_before: float | None
    log_loss_after: float | None
    rmse_before: float | None
    rmse_after: float | None
    parameters: list[float]  # the parameters in use after this fit
    fitted_at: str

    def to_dict(self) -> dict:
        return asdict(self)


def is_flashcard(item_id: str) -> bool:
    """Flashcards, not a coding exercise's or a drill family's card (rated from tries, not recall)."""
    return not item_id.startswith(("exercise:", "drill:"))


def review_logs(records: Iterable, owner: str = "") -> list[ReviewLog]:
    """Store ReviewRecords (flashcards only) as py-fsrs ReviewLogs. `owner` keeps two learners'
    copies of one item apart when a class is fitted together."""
    return [
        ReviewLog(card_id_for(f"{owner}{r.item_id}"), r.rating, r.reviewed_at, r.duration_ms) for r in records if is_flashcard(r.item_id)
    ]


def _histories(logs: Iterable[ReviewLog]) -> dict[int, list[ReviewLog]]:
    by_card: dict[int, list[ReviewLog]] = defaultdict(list)
    for log in logs:
        by_card[log.card_id].append(log)
    return {card_id: sorted(history, key=lambda log: log.review_datetime) for card_id, history in by_card.items()}


def predictions(logs: Iterable[ReviewLog], parameters: Sequence[float]) -> list[tuple[float, int]]:
    """(predicted recall, recalled) for each interday review, replaying every card's history with
    `parameters` the way py-fsrs's optimizer does (its loss skips first and same-day reviews)."""
    scheduler = Scheduler(parameters=tuple(parameters), enable_fuzzing=False)
    scored = []
    for card_id, history in _histories(logs).items():
        card = Card(card_id=card_id, due=history[0].review_datetime)
        for log in history:
            if card.last_review is not None and (log.review_datetime - card.last_review).days > 0:
                scored.append((scheduler.get_card_retrievability(card, log.review_datetime), int(log.rating != Rating.Again)))
            card, _ = scheduler.review_card(card, log.rating, log.review_datetime)
    return scored


def evaluate(logs: Iterable[ReviewLog], parameters: Sequence[float]) -> Evaluation | None:
    """Log loss and binned RMSE of `parameters` on the log; None when no review can be scored."""
    scored = predictions(logs, parameters)
    if not scored:
        return None
    return Evaluation(log_loss(scored), calibration_rmse(scored), len(scored))


def log_loss(scored: Sequence[tuple[float, int]]) -> float:
    """Mean binary cross-entropy; each log clamped at -100 as torch's BCELoss (the optimizer's) does."""
    clamped = lambda x: max(math.log(x), -100) if x > 0 else -100  # noqa: E731
    return -sum(y * clamped(p) + (1 - y) * clamped(1 - p) for p, y in scored) / len(scored)


def calibration_rmse(scored: Sequence[tuple[float, int]]) -> float:
    """RMSE between mean predicted and observed recall in RMSE_BINS equal bins of prediction,
    weighted by each bin's count (Anki bins differently; the idea, calibration, is the same)."""
    bins: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for p, y in scored:
        bins[min(int(p * RMSE_BINS), RMSE_BINS - 1)].append((p, y))
    squared = sum(len(b) * (sum(p for p, _ in b) / len(b) - sum(y for _, y in b) / len(b)) ** 2 for b in bins.values())
    return math.sqrt(squared / len(scored))


def interday_reviews(logs: Iterable[ReviewLog]) -> int:
    """Reviews the optimizer learns from: not a card's first, not on the same day as the one before."""
    count = 0
    for history in _histories(logs).values():
        count += sum((b.review_datetime - a.review_datetime).days > 0 for a, b in zip(history, history[1:], strict=False))
    return count


def fit_parameters(logs: Sequence[ReviewLog]) -> list[float]:
    """py-fsrs's Optimizer (imports torch): 5 epochs of Adam on the log's interday reviews. One
    torch thread: its scalar operations gain nothing from more (577 interday reviews, 2 shared
    cores: 12.9 s with one thread, 14.1 s with two). The thread count is process-wide: the app
    runs this only in a refit process of its own (study/refits.py), never in its server."""
    import torch
    from fsrs import Optimizer

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return [float(x) for x in Optimizer(list(logs)).compute_optimal_parameters()]
    finally:
        torch.set_num_threads(threads)


def optimize(logs: Sequence[ReviewLog], current: Sequence[float], source: str, now: datetime) -> FitReport:
    """Fit when the log is big enough; the new parameters are kept only when they predict the log
    better than `current` (as Anki keeps parameters that "currently appear to be optimal")."""
    count = interday_reviews(logs)
    before = evaluate(logs, current)
    if count < MIN_INTERDAY_REVIEWS:  # nothing fitted: the parameters in use stay, and so do their figures
        loss, rmse = (before.log_loss, before.rmse) if before else (None, None)
        return FitReport(len(logs), count, False, False, source, loss, loss, rmse, rmse, list(current), now.isoformat())
    fitted = fit_parameters(logs)
    after = evaluate(logs, fitted)
    better = after.log_loss < before.log_loss
    return FitReport(len(logs), count, True, better, source, before.log_loss, after.log_loss, before.rmse, after.rmse,
                     fitted if better else list(current), now.isoformat())  # fmt: skip


# -- the store: a learner, the class, and automatic refits ------------------------------------------


def optimize_learner(store, profile: str, now: datetime, save: bool = True) -> FitReport:
    """Fit `profile`'s flashcard reviews; with `save`, keep the report (and better parameters,
    after which every card's memory state is replayed with them)."""
    in_use = store.parameters_for(profile)
    report = optimize(review_logs(store.reviews(profile)), in_use.values, in_use.source, now)
    if save:
        store.save_fit(profile, report.to_dict(), report.parameters if report.saved else None)
        if report.saved:
            replay_memory(store, profile)
    return report


def optimize_class(store, now: datetime, save: bool = True) -> FitReport:
    """Fit every learner's flashcard reviews together: the parameters of learners below the minimum."""
    from fsrs.scheduler import DEFAULT_PARAMETERS

    from study.store import ReviewRecord

    records = [(p, ReviewRecord(i, Rating(r), t, None, s, m)) for p, i, r, t, s, m in store.class_reviews()]
    logs = [log for profile, record in records for log in review_logs([record], owner=f"{profile}/")]
    previous = store.class_fit_report()
    current = previous["parameters"] if previous else list(DEFAULT_PARAMETERS)
    report = optimize(logs, current, "class" if previous else "defaults", now)
    if save and report.fitted:
        store.save_class_fit(report.to_dict(), report.parameters)
        for profile in store.profiles():
            if store.parameters_for(profile).source == "class":
                replay_memory(store, profile)
    return report


def replay_memory(store, profile: str) -> int:
    """Recompute each flashcard's memory state from its reviews with the parameters now in use.

    The log is read before the cards are rewritten, and the learner may be reviewing meanwhile (the
    automatic refit runs beside the app): a card reviewed after the read keeps its state, or the
    replay would take that review back out of its memory state and due date."""
    scheduler = store.scheduler_for(profile)
    history: dict[str, list] = defaultdict(list)
    for record in store.reviews(profile):
        history[record.item_id].append((record.rating, record.reviewed_at))

    def replayed(item_id: str, card: Card) -> Card:
        known = history[item_id]
        return scheduler.replay(card, known) if known and max(moment for _, moment in known) >= card.last_review else card

    return store.reschedule(profile, "card", replayed)


def refit_due(store, profile: str) -> bool:
    """Whether `refit_every` flashcard reviews have happened since the last fit (or ever)."""
    report = store.fit_report(profile)
    return store.flashcard_review_count(profile) - (report["reviews"] if report else 0) >= store.settings(profile).refit_every


def refit(store, profile: str, now: datetime, hosted: bool) -> FitReport:
    """The automatic refit: the learner, and, on a hosted class, the class's parameters when the
    learner is still below the minimum and the class has grown enough since its last fit."""
    report = optimize_learner(store, profile, now)
    if hosted and not report.fitted:
        last = store.class_fit_report()
        if len(store.class_reviews()) - (last["reviews"] if last else 0) >= CLASS_REFIT_EVERY:
            optimize_class(store, now)
    return report
