"""Which practice each daily tip carries: chosen when the tip is claimed for sending,
recorded as received in the transaction that marks it sent.

A tip row is planned with no practice. When a pass claims it, the practice is chosen
(``bot.domain.tips.choose_tip``) from the person's current role(s) and what they
have actually received, in the claim's own transaction, and written into the row's
payload, so the 👍/👎 buttons and a retry after a Slack failure see the same choice.
Only when Slack has taken the message is the practice recorded in ``tips_received``,
together with the row's ``sent`` status. A tip that is dropped, cancelled or fails
therefore costs the person nothing.

Choosing costs two queries per claimed batch (what the batch's people received; their
active pairs with any recent low ratings), never one per row.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.content import Content
from bot.domain.tips import (
    LOW_RATING_AT_MOST,
    LOW_RATING_LASTS,
    STALE_AFTER,
    Pairing,
    Rating,
    Received,
    TipHistory,
    TipOption,
    choose_tip,
    tip_list_role,
)
from bot.store import outbox
from bot.store import tipchoice as store
from bot.store.outbox import ClaimedMessage

# Recording a sent tip as received is pure persistence: the store's, used as is.
mark_sent = store.mark_sent

_Person = tuple[str, str]  # (team_id, user_id)


def tip_options(content: Content, list_role: str) -> list[TipOption]:
    """The practices of a tip list ("mentor", "mentee" or "both"), in content order."""
    roles = ("mentor", "mentee") if list_role == "both" else (list_role,)
    return [
        TipOption(p.id, role, p.relationship, p.after_low_rating)
        for role in roles
        for p in content.tips_for(role)
    ]


def claim_due(
    session: Session,
    *,
    content: Content,
    now: datetime,
    worker: str,
    limit: int,
    alive: Sequence[str] = (),
) -> list[ClaimedMessage]:
    """``outbox.claim_due``, with each claimed tip's practice chosen in the same unit.

    A stale tip is left as it is: the engine drops it without choosing. One with no
    list to choose from (no active pair, nor a role planned) comes back with
    ``tip_id`` None, and the engine drops it too.
    """
    batch = outbox.claim_due(session, now=now, worker=worker, limit=limit, alive=alive)
    tips = [m for m in batch if m.kind == "tip" and now - m.due_at <= STALE_AFTER]
    if not tips:
        return batch
    payloads = choose(session, tips, content=content, now=now)
    changed = [
        {"row_id": m.id, "new_payload": payloads[m.id]}
        for m in tips
        if payloads[m.id].get("tip_id") is not None and payloads[m.id] != m.payload
    ]
    store.set_payloads(session, changed)  # one executemany
    return [replace(m, payload=payloads[m.id]) if m.id in payloads else m for m in batch]


def choose(
    session: Session, tips: Sequence[ClaimedMessage], *, content: Content, now: datetime
) -> dict[int, dict[str, Any]]:
    """The payload each tip goes out with: its practice, list role and rotation turn."""
    people = {(m.team_id, m.recipient) for m in tips}
    histories = _histories(session, people, now=now)
    lists = {role: tip_options(content, role) for role in ("mentor", "mentee", "both")}
    payloads: dict[int, dict[str, Any]] = {}
    # Rarely one person has two tips in a batch; the second must know the first.
    tips_per_person = Counter((m.team_id, m.recipient) for m in tips)
    for message in tips:  # in due order, so one person's second tip follows their first
        person = (message.team_id, message.recipient)
        history = histories.get(person, TipHistory())
        roles = {pairing.role for pairing in history.pairings}
        # No active pair now: ending one cancels its tips in the same transaction, so
        # only a row held meanwhile gets here; it keeps the list it was planned with.
        list_role = tip_list_role(roles) if roles else message.payload.get("role")
        if list_role not in lists:
            payloads[message.id] = {**message.payload, "tip_id": None}
            continue
        options = lists[list_role]
        previous = message.payload.get("tip_id")
        if "cycle" in message.payload and any(o.id == previous for o in options):
            # Claimed before (a retry): Slack may have shown it already, keep it.
            tip_id, cycle = previous, int(message.payload["cycle"])
        else:
            choice = choose_tip(options, history, seed=_seed(message), now=now)
            assert choice is not None  # content always lists at least one practice
            tip_id, cycle = choice.tip_id, choice.cycle
        payloads[message.id] = {
            **message.payload,
            "tip_id": tip_id,
            "role": list_role,
            "cycle": cycle,
        }
        if tips_per_person[person] > 1:
            histories[person] = history.after_sending(tip_id, cycle, now)
    return payloads


def _seed(message: ClaimedMessage) -> int:
    seed = message.payload.get("seed")
    if isinstance(seed, int):
        return seed
    from bot.store.repo import _stable_seed  # tips planned before the seed was in the payload

    return _stable_seed(message.team_id, message.recipient)


def _histories(
    session: Session, people: set[_Person], *, now: datetime
) -> dict[_Person, TipHistory]:
    teams = {team for team, _ in people}
    users = {user for _, user in people}
    history: dict[_Person, dict[str, Received]] = defaultdict(dict)
    for team, user, practice, cycle, last_sent_at, disliked in store.received_of(
        session, teams=teams, users=users
    ):
        history[(team, user)][practice] = Received(cycle, last_sent_at, disliked)
    # Active pairs, each with any low rating given to it lately (an outer join: one query).
    pairings: dict[_Person, set[Pairing]] = defaultdict(set)
    ratings: dict[_Person, set[Rating]] = defaultdict(set)
    for row in store.active_pairs_with_low_ratings(
        session, teams=teams, users=users, at_most=LOW_RATING_AT_MOST, since=now - LOW_RATING_LASTS
    ):
        since = row.accepted_at or row.created_at
        for role, user in (("mentor", row.mentor_id), ("mentee", row.mentee_id)):
            person = (row.team_id, user)
            if person not in people:
                continue
            pairings[person].add(Pairing(role, since))
            if row.user_id == user and row.usefulness is not None:
                ratings[person].add(Rating(role, row.usefulness, row.updated_at))
    return {
        person: TipHistory(
            received=history.get(person, {}),
            pairings=tuple(sorted(pairings.get(person, ()), key=lambda p: (p.since, p.role))),
            ratings=tuple(sorted(ratings.get(person, ()), key=lambda r: (r.at, r.role))),
        )
        for person in people
    }
