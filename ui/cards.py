"""Card views: the sidebar filters, a card's body, graded feedback, the proof beside a card, and
the four rating buttons with the interval each would give."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from typing import Any

import streamlit as st
from fsrs import Rating

from qa_bank.schema import Bank, QAItem
from study.filters import ItemFilter
from study.scheduling import format_interval
from ui.demos import render_claim_verdict, render_demo_panel
from ui.state import profile


def plain(text: str) -> str:
    """Short plain text (a key point, the learner's words) shown inside Markdown: "128*4*4" must not
    turn into italics."""
    return text.replace("*", "\\*")


RATING_KEYS = {Rating.Again: "1", Rating.Hard: "2", Rating.Good: "3", Rating.Easy: "4"}


def sidebar_filters(bank: Bank, key: str) -> ItemFilter:
    """Topic, source, type and difficulty filters, drawn once in the sidebar of a page."""
    with st.sidebar:
        st.caption(f"Profile: **{profile()}**")
        topics = st.multiselect("Topics", list(bank.topics), format_func=lambda t: bank.topics[t].name, key=f"{key}-topics")
        sources = st.multiselect("Source documents", sorted({i.source.document for i in bank.items}), key=f"{key}-sources")
        types = st.multiselect("Type", sorted({t for i in bank.items for t in i.type}), key=f"{key}-types")
        difficulties = st.multiselect("Difficulty", [1, 2, 3], key=f"{key}-difficulty")
        has_demo, reason = proof_filter(f"{key}-proof")
    return ItemFilter(tuple(topics), tuple(sources), tuple(types), tuple(difficulties), has_demo, reason)


def proof_filter(key: str) -> tuple[bool | None, str | None]:
    """A "Proof" select: any, proved by a demo, unproved, or unproved for one reason -> (has_demo, reason)."""
    from qa_bank.schema import UNPROVED_REASONS

    choices = ["Any", "Proved by a demo", "Unproved", *(f"Unproved: {reason}" for reason in UNPROVED_REASONS)]
    choice = st.selectbox("Proof", choices, key=key)
    if choice == "Any":
        return None, None
    if choice == "Proved by a demo":
        return True, None
    return False, choice.removeprefix("Unproved: ") if choice.startswith("Unproved: ") else None


def render_item_body(item: QAItem, bank: Bank) -> None:
    """Answer, key points, correction note, source, links, and the exercises that practise it.

    Bank text goes through st.markdown without unsafe_allow_html, so any HTML in it shows as text.
    """
    st.markdown(item.answer)
    st.markdown("**Key points:** " + " · ".join(map(plain, item.key_points)))
    if item.roles:
        st.markdown("**Which does what:** " + " · ".join(f"{plain(role.subject)}: {plain(role.does)}" for role in item.roles))
    if item.notes:
        st.warning(item.notes, icon=":material/edit_note:")
    if item.demo and item.claim_check:
        render_claim_verdict(item.demo, item.claim_check, key=f"claim-{item.id}", checks_note=bool(item.notes))
    topic_names = [bank.topics[t].name for t in item.topics if t in bank.topics]
    st.caption(f"{item.source.label()} · {', '.join(topic_names)} · {'/'.join(item.type)} · difficulty {item.difficulty}")
    if item.code_refs:
        st.caption("Code: " + ", ".join(f"`{ref}`" for ref in item.code_refs))
    if item.unproved:
        st.caption(f"Unproved ({item.unproved.reason}): {plain(item.unproved.note)}")
    render_practice_links(item, key=f"practice-{item.id}")


_WHY_LABEL = {"negation": "Negated", "antonym": "Opposite", "roles": "Roles swapped", "value": "Wrong value", "number": "Wrong number"}
_POINT_LOOK = {  # status -> (icon, label) for a key point in graded feedback
    "matched": (":material/check_circle:", "Matched"),
    "partial": (":material/adjust:", "Partly"),
    "missed": (":material/radio_button_unchecked:", "Missed"),
    "contradicted": (":material/cancel:", "Contradicted"),
}


# What the blind sets measure (docs/grading.md, "Blind set L": 26 to 32 of the 80 reversed answers of each of
# sets G, I, J, K and L pass the grader alone), said beside a Good or Easy suggestion
# (Quiz) and atop the viva report, so a learner does not take the grader's word for a point said the
# wrong way round.
GOOD_IS_NOT_PROOF = (
    ":material/info: A Good is not proof you said it the right way round: on answers written by people who never "
    "saw this grader, it still passes about a third of those that reverse one point inside a right-looking "
    "sentence. Check each matched point against the model answer."
)


def render_grade_feedback(result, points_hidden: bool = False) -> None:
    """A list of terms first ("say how they relate"); then each key point as matched, partly
    stated, missed or contradicted, with the learner's own clause that decided it and, for a
    contradiction, what reversed it (the two things swapped, the wrong value); then each
    misconception the answer states, with its correction.

    points_hidden: the card's exact checks are still to answer. Its key-point pairs are those very
    points beside their reversals, so listing the points would answer the checks; until they are done
    only the contradictions (the rating is held for them anyway) and a count of the rest are shown."""
    if result.listed_terms:
        st.warning(f":material/format_list_bulleted: {plain(result.hint)}")
    for point in result.points:
        if points_hidden and point.status.value != "contradicted":
            continue
        icon, label = _POINT_LOOK[point.status.value]
        said = f" · you said: “{plain(point.clause)}”" if point.clause else ""
        line = f"{icon} **{label}:** {plain(point.point)}{said}"
        if point.status.value == "contradicted":
            st.error(f"{line}  \n{_WHY_LABEL.get(point.why or '', 'Reversed')}: {plain(point.explain())}")
        elif point.status.value == "matched":
            st.success(line)
        else:
            st.markdown(line)
    if points_hidden:
        st.caption(hidden_points_summary(result))
    for hit in result.misconceptions:
        belief, clause = plain(hit.belief), plain(hit.clause)
        st.warning(f":material/report: **Misconception:** “{clause}” states that {belief}.  \n**Correction:** {hit.correction}")


def hidden_points_summary(result) -> str:
    """What stands in for the key points while the checks are open: how many of each, not which."""
    counts = {label: sum(p.status.value == status for p in result.points) for status, (_, label) in _POINT_LOOK.items()}
    said = ", ".join(f"{n} {label.lower()}" for label, n in counts.items() if n and label != "Contradicted")
    said = said or "none besides the contradictions above"
    return f"Key points: {said}. Which ones shows once the checks below are answered: each point would give its check away."


def checks_pending(item: QAItem, keys: tuple[str, str]) -> bool:
    """Whether a check the card asks is still unanswered ("Which does what?" under keys[0], "Which is right?" under keys[1])."""
    from study.self_check import self_checks

    return any(check.pending for check in self_checks(item, *(st.session_state.get(f"{key}-result") for key in keys)))


def forget_checks(prefix: str) -> None:
    """Drop every exact check's state (seed, picks, result) under `prefix`, so the card's next review
    asks afresh, in a new order, with nothing picked."""
    for name in [name for name in st.session_state if str(name).startswith(prefix)]:
        del st.session_state[name]


def _check_seed(key: str) -> int:
    """The shuffle of one exact check, drawn once per review (forget_checks clears it)."""
    import random

    return st.session_state.setdefault(f"{key}-seed", random.SystemRandom().randrange(1_000_000))


def _exact_check(key: str, heading: str, submit: str, ask: Callable[[], Any], check: Callable[[Any], Any]) -> tuple[Any, Any]:
    """The flow both exact checks share: the form until it is submitted, then its result and what was
    picked, one attempt per review (the result names the right answer, so a second try would be a copy).
    Returns (result, picked), both None until submitted."""
    st.markdown(heading)
    if st.session_state.get(f"{key}-result") is None:
        with st.form(f"{key}-form"):
            picked = ask()
            if st.form_submit_button(submit):
                st.session_state[f"{key}-picked"] = picked
                st.session_state[f"{key}-result"] = check(picked)
                st.rerun()  # a rating shown above the check (the viva report's titles) reads the new result
    return st.session_state.get(f"{key}-result"), st.session_state.get(f"{key}-picked")


def _summarise(result: Any, all_right: str, wrong: list[str]) -> None:
    """Under a checked exact check: all right, each wrong answer named with the right one, or how many were left open."""
    if result.passed:
        st.success(f":material/check_circle: All {result.total} {all_right}.")
    for message in wrong:
        st.error(message)
    if result.unanswered:
        st.info(f"{result.unanswered} of {result.total} left open.")


def render_roles_check(item: QAItem, key: str):
    """ "Which does what?": one choice of subject per role text, checked exactly on submit
    (study/roles_check.py). Returns the check's result once submitted, else None; nothing for an item
    without roles."""
    from study.roles_check import UNANSWERED, check_roles, role_question

    question = role_question(item, _check_seed(key))
    if question is None:
        return None
    result, picked = _exact_check(
        key,
        "**Which does what?** Your sentence can be right in every word and still swap two of these.",
        "Check the roles",
        lambda: {
            does: st.selectbox(plain(does), [UNANSWERED, *question.subjects], key=f"{key}-{n}") for n, does in enumerate(question.does)
        },
        lambda chosen: check_roles(item, chosen),
    )
    if result is None:
        return None
    # What was picked stays on the page, each marked, in place of the form.
    owner = {role.does: role.subject for role in item.roles}
    for does, chosen in picked.items():
        if chosen == owner.get(does):
            st.markdown(f":green[:material/check:] “{plain(does)}”: **{plain(chosen)}**")
        elif chosen == UNANSWERED:
            st.markdown(f":gray[:material/remove:] “{plain(does)}”: left open; it is what **{plain(owner[does])}** does")
    swaps = [f":material/swap_horiz: “{plain(s.does)}” is what **{plain(s.right)}** does, not {plain(s.chosen)}." for s in result.swaps]
    _summarise(result, "matched", swaps)
    return result


def render_belief_check(item: QAItem, key: str):
    """ "Which is right?": each misconception the item knows beside its true statement, one pick per pair,
    checked exactly on submit (study/belief_check.py). Returns the check's result once submitted, else
    None; nothing for an item with no truths."""
    from study.belief_check import belief_question, check_beliefs

    question = belief_question(item, _check_seed(key))
    if question is None:
        return None
    result, picked = _exact_check(
        key,
        "**Which is right?** One statement of each pair is wrong (a belief examiners hear, a value changed, or a key point said"
        " backwards); pick the one that holds.",
        "Check my picks",
        lambda: [st.radio(f"Pair {n + 1}", pair, index=None, format_func=plain, key=f"{key}-{n}") for n, pair in enumerate(question.pairs)],
        lambda picks: check_beliefs(item, picks),
    )
    if result is None:
        return None
    truths = {m.truth for m in item.misconceptions if m.truth}
    for pick in picked:
        if pick in truths:
            st.markdown(f":green[:material/check:] “{plain(pick)}”")
    _summarise(result, "right", [f":material/report: “{plain(m.belief)}” is the misconception.  \n{m.correction}" for m in result.believed])
    return result


def render_proof(item: QAItem, bank: Bank, key: str) -> None:
    """Beside a card: its demo, the code it points at, and related cards."""
    if item.demo:
        render_demo_panel(item.demo, key=f"{key}-demo", claim_check=item.claim_check)
    if item.code_refs and st.toggle("Show the code this answer points at", key=f"{key}-code"):
        for ref in item.code_refs:
            render_code_ref(ref)
    related = related_cards(item, bank)
    if related:
        st.markdown("**Related cards:** " + " · ".join(r.question.splitlines()[0][:60] for r in related))


def render_practice_links(item: QAItem, key: str) -> None:
    """Buttons to the coding exercises that practise this item, and to the drills."""
    from exercises.catalogue import exercises_for_item  # torch-free: exercises load torch only to check

    practice = exercises_for_item(item.id)
    if not practice:
        return
    for exercise in practice:
        if st.button(f"Practise in code: {exercise.title}", key=f"{key}-exercise-{exercise.id}", icon=":material/code:"):
            st.session_state["exercise-current"] = exercise.id
            st.switch_page("pages/exercises.py")
    if st.button("Drill the numbers", key=f"{key}-drills", icon=":material/calculate:"):
        st.switch_page("pages/drills.py")


def related_cards(item: QAItem, bank: Bank, limit: int = 3) -> list[QAItem]:
    from study.viva import related_items

    return related_items(item, bank.items, limit)


def render_code_ref(ref: str) -> None:
    """The source of `module:name` with its file line numbers."""
    import inspect

    from qa_bank.links import resolve_code_ref

    try:
        target = resolve_code_ref(ref)
        lines, first = inspect.getsourcelines(target)
        path = inspect.getsourcefile(target)
    except (LookupError, TypeError, OSError) as error:
        st.info(f"`{ref}`: source not available ({error})")
        return
    st.caption(f"`{ref}` · {os.path.relpath(path)} lines {first}-{first + len(lines) - 1}")
    st.code("".join(f"{first + i:4d}  {line}" for i, line in enumerate(lines)), language="python")


def rating_buttons(preview: dict[Rating, datetime], now: datetime, key: str, suggested: str | None = None) -> Rating | None:
    """Again/Hard/Good/Easy with their shortcuts (1-4) and, as Anki shows them, the interval each
    rating would give ("10m", "3d"); returns the rating pressed, if any."""
    chosen = None
    for column, (rating, shortcut) in zip(st.columns(4), RATING_KEYS.items(), strict=True):
        label = f"{rating.name} · {format_interval(preview[rating] - now)} ({shortcut})"
        kind = "primary" if rating.name == suggested else "secondary"
        if column.button(label, key=f"{key}-{rating.name}", shortcut=shortcut, width="stretch", type=kind):
            chosen = rating
    return chosen
