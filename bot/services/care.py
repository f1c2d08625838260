"""Care before a pair fails: the scheduler's care pass, the private 30-day match
check-in, and its blame-free way out (rules: ``bot.domain.care``).

* **The care pass** (``plan_care``, run by every scheduler pass): a pair that has not
  had its first meeting 21 days after kickoff, has not met in 30 days, or whose last
  two meetings didn't happen gets one kind nudge in its group DM, with one button to
  schedule. The nudge's outbox row is its own durable marker: its key names the pair,
  the reason and when the reason began, so every pass in every process plans the same
  row and only the first counts, and ``nudged_at`` is read back from it. Only when
  nothing changes for a week after it does the pair show as at risk to coordinators
  (``bot.services.insights`` reads the same rule). The same pass plans each member's
  check-in once, 30 days after kickoff.
* **The check-in** is private: a 1–5 score, or "this isn't working for me", which
  offers the exit: end and be matched again, end, or keep going. Ending goes through
  the one way a pair ends (``pairing.end_pair``); the partner is told kindly, never
  why, and may go back to the pool; coordinators are told privately.

Each press is one transaction: the answer, and every message it causes as outbox rows.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy.orm import Session

from bot import outgoing
from bot.buttons import NOT_MINE
from bot.content import Content
from bot.domain import care as rules
from bot.domain.errors import Conflict, UserError
from bot.services import pairing, pool
from bot.store import care as store
from bot.store import checkins, outbox, repo
from bot.store import pool as pool_store
from bot.store.models import Pair
from bot.store.outbox import PlannedMessage

ENDED = "This pairing has already ended, so there's nothing to change here."


# ---------------------------------------------------------------- the care pass


def care_teams(session: Session) -> list[str]:
    """The workspaces the care pass looks at: active pairs, not paused or uninstalled."""
    return store.teams_with_active_pairs(session)


def plan_care(
    session: Session,
    *,
    team_id: str,
    now: datetime,
    tip_minute: int,
    working_days: frozenset[int],
) -> int:
    """One workspace's care pass: the nudges due now and the check-ins due now, planned
    once each; a check-in for each member's own morning (their tip time, else
    ``tip_minute``) on a working day. Returns how many rows were new."""
    facts = store.pair_facts(
        session,
        team_id=team_id,
        nudged_at=store.last_sent(session, team_id=team_id, kind=outgoing.CARE_NUDGE),
    )
    if not facts:
        return 0
    nudges = rules.to_nudge(facts, now=now)
    due = [
        f.pair_id
        for f in facts
        if rules.checkin_due(kickoff=f.kickoff, pair_status="active", now=now)
    ]
    if not nudges and not due:
        return 0
    people = store.members(
        session, team_id=team_id, pair_ids={c.pair_id for c in nudges} | set(due)
    )
    planned: list[PlannedMessage] = []
    for care in nudges:
        mentor_id, mentee_id = people[care.pair_id]
        assert care.reason is not None and care.since is not None
        planned.append(
            outgoing.care_nudge(
                team_id=team_id,
                pair_id=care.pair_id,
                reason=care.reason,
                since=care.since,
                mentor_id=mentor_id,
                mentee_id=mentee_id,
                now=now,
            )
        )
    asked = store.planned_to(session, team_id=team_id, kind=outgoing.CHECKIN, pair_ids=due)
    for pair_id in due:
        mentor_id, mentee_id = people[pair_id]
        for member, partner in ((mentor_id, mentee_id), (mentee_id, mentor_id)):
            if (pair_id, member) not in asked:
                person = repo.get_person(session, team_id=team_id, user_id=member)
                send_at = rules.checkin_send_at(
                    now=now,
                    tz=person.tz if person else None,
                    minute_of_day=(
                        person.tip_minute
                        if person and person.tip_minute is not None
                        else tip_minute
                    ),
                    working_days=working_days,
                )
                planned.append(
                    outgoing.checkin(
                        team_id=team_id,
                        pair_id=pair_id,
                        user_id=member,
                        partner_id=partner,
                        now=send_at,
                    )
                )
    return outbox.plan(session, planned, now=now)


def nudge_at_risk(session: Session, *, team_id: str, pair_id: int, now: datetime) -> str:
    """A coordinator's Nudge on a pair shown at risk: the pair is sent the care nudge for
    its reason again, which starts its week anew (it leaves the at-risk list, and comes
    back if nothing changes). What the coordinator is told: done, already done today,
    or why no nudge is needed (the pair moved on since the list was drawn)."""
    pair = repo.get_pair(session, team_id=team_id, pair_id=pair_id)
    if pair is None or pair.status != "active":
        return "That pair is no longer active."
    facts = store.pair_facts(
        session,
        team_id=team_id,
        nudged_at=store.last_sent(session, team_id=team_id, kind=outgoing.CARE_NUDGE),
    )
    care = next((rules.assess(f, now=now) for f in facts if f.pair_id == pair.id), None)
    if care is None or care.action == rules.NONE:
        return "That pair is on track again (they met, or set a meeting): no nudge needed."
    if care.action == rules.WAIT:
        return (
            "That pair was nudged in the last week, or has set a meeting since: no second "
            "nudge. They show again if nothing changes."
        )
    assert care.reason is not None and care.since is not None
    nudge = outgoing.care_nudge(
        team_id=team_id,
        pair_id=pair.id,
        reason=care.reason,
        since=care.since,
        mentor_id=pair.mentor_id,
        mentee_id=pair.mentee_id,
        now=now,
        # Not yet at risk (its first nudge is due): that very nudge, by the care pass's
        # own key, so the pass and the press never send it twice.
        asked=care.action == rules.AT_RISK,
    )
    if not outbox.plan(session, [nudge], now=now):
        return "That pair was already nudged today."
    return (
        f"I've nudged <@{pair.mentor_id}> and <@{pair.mentee_id}> in their group DM. They "
        "leave the at-risk list for a week, and come back if nothing changes."
    )


# ---------------------------------------------------------------- the check-in


def _asked(session: Session, *, team_id: str, pair: Pair, user_id: str) -> tuple[str, str]:
    """Where their check-in is: a press on one that was never sent to them is refused."""
    where = store.sent_message(
        session, team_id=team_id, user_id=user_id, pair_id=pair.id, kind=outgoing.CHECKIN
    )
    if where is None:
        raise UserError(NOT_MINE)
    return where


def _checkin_update(
    team_id: str, pair: Pair, user_id: str, where: tuple[str, str], row: object, now: datetime
) -> PlannedMessage:
    channel, ts = where
    return outgoing.to_person(
        outgoing.CHECKIN_UPDATE,
        team_id=team_id,
        user_id=user_id,
        now=now,
        pair_id=pair.id,
        payload={
            "channel": channel,
            "ts": ts,
            "pair_id": pair.id,
            "partner_id": pair.partner_of(user_id),
            "score": getattr(row, "score", None),
            "not_working": bool(getattr(row, "not_working", False)),
        },
    )


def record_score(
    session: Session, *, team_id: str, pair_id: int, user_id: str, score: int, now: datetime
) -> int:
    """A 1–5 press: kept for that member of that pair only, and the check-in shows it;
    refused once the pair has ended."""
    pair = pairing.member_pair(
        session, team_id=team_id, pair_id=pair_id, user_id=user_id, active=False, lock=True
    )
    where = _asked(session, team_id=team_id, pair=pair, user_id=user_id)
    if pair.status != "active":
        # As "this isn't working": the check-in asks how the pairing goes, and it is
        # over (the check-in showed a score beside "this isn't working", ended).
        raise Conflict(ENDED)
    row = checkins.record_score(
        session,
        team_id=team_id,
        pair_id=pair.id,
        user_id=user_id,
        score=rules.check_score(score),
        now=now,
    )
    outbox.plan(session, [_checkin_update(team_id, pair, user_id, where, row, now)], now=now)
    return row.score or score


def not_working(
    session: Session, *, team_id: str, pair_id: int, user_id: str, now: datetime
) -> None:
    """ "This isn't working for me": noted privately, and the way out offered (once)."""
    pair = pairing.member_pair(
        session, team_id=team_id, pair_id=pair_id, user_id=user_id, active=False, lock=True
    )
    where = _asked(session, team_id=team_id, pair=pair, user_id=user_id)
    if pair.status != "active":
        raise Conflict(ENDED)
    row = checkins.record_not_working(
        session, team_id=team_id, pair_id=pair.id, user_id=user_id, now=now
    )
    outbox.plan(
        session,
        [
            _checkin_update(team_id, pair, user_id, where, row, now),
            outgoing.exit_offer(
                team_id=team_id,
                pair_id=pair.id,
                user_id=user_id,
                partner_id=pair.partner_of(user_id),
                now=now,
            ),
        ],
        now=now,
    )


def exit_choice(
    session: Session,
    *,
    team_id: str,
    pair_id: int,
    user_id: str,
    choice: str,
    coordinators: Collection[str],
    now: datetime,
) -> rules.ExitEffects:
    """The answer to the exit offer. ``rematch`` / ``end``: the pair ends (the one way a
    pair ends); the partner is told kindly, never why, and offered the pool; each
    coordinator (``MENTOR_ADMINS``, other than the two) is told privately; the one who
    asked goes back into the pool (``rematch``) or out of it (``end``). ``stay`` only
    records the answer."""
    pair = pairing.member_pair(
        session, team_id=team_id, pair_id=pair_id, user_id=user_id, active=False, lock=True
    )
    answered = checkins.get(session, team_id=team_id, pair_id=pair.id, user_id=user_id)
    if answered is None or not answered.not_working:
        raise UserError(NOT_MINE)  # the offer only follows "this isn't working for me"
    choice = rules.check_exit_choice(choice, pair_status=pair.status)
    checkins.record_exit_choice(
        session, team_id=team_id, pair_id=pair.id, user_id=user_id, choice=choice, now=now
    )
    effects = rules.exit_effects(members=pair.members, by=user_id, choice=choice)
    partner = pair.partner_of(user_id)
    offer = store.sent_message(
        session, team_id=team_id, user_id=user_id, pair_id=pair.id, kind=outgoing.EXIT_OFFER
    )
    answer: dict[str, object] = {"pair_id": pair.id, "partner_id": partner, "choice": choice}
    if offer is not None:
        answer |= {"channel": offer[0], "ts": offer[1]}
    planned = []
    if effects.end_pair:
        planned.append(pairing.end_pair_told(session, pair=pair, ended_by=user_id, now=now))
    # Planned after the ending, which cancels what the pair still had waiting.
    planned += [
        outgoing.to_person(
            outgoing.EXIT_ANSWERED,
            team_id=team_id,
            user_id=user_id,
            now=now,
            pair_id=pair.id,
            payload=answer,
        )
    ]
    for member in effects.back_to_pool:
        # Their answer says so already: no confirmation of its own.
        pool.rejoin(
            session,
            team_id=team_id,
            user_id=member,
            role=pair.role_of(member),
            now=now,
            confirm=False,
        )
    if effects.end_pair and choice == rules.END:
        # "No new match for now": out of the pool until `/mentor join`.
        pool_store.delete_member(session, team_id=team_id, user_id=user_id)
    if effects.offer_pool_to is not None:
        planned.append(
            outgoing.to_person(
                outgoing.EXIT_PARTNER,
                team_id=team_id,
                user_id=effects.offer_pool_to,
                now=now,
                pair_id=pair.id,
                payload={"pair_id": pair.id, "ended_by": user_id},
            )
        )
    if effects.tell_coordinators:
        planned.extend(
            outgoing.to_person(
                outgoing.EXIT_COORDINATOR,
                team_id=team_id,
                user_id=coordinator,
                now=now,
                pair_id=pair.id,
                payload={
                    "mentor_id": pair.mentor_id,
                    "mentee_id": pair.mentee_id,
                    "ended_by": user_id,
                    "rematch": choice == rules.REMATCH,
                },
            )
            for coordinator in sorted(set(coordinators) - set(pair.members))
        )
    outbox.plan(session, planned, now=now)
    return effects


def rejoin_pool(
    session: Session,
    *,
    team_id: str,
    pair_id: int,
    user_id: str,
    content: Content,
    now: datetime,
    response_url: str | None = None,
) -> bool:
    """ "Yes, match me again" after a pairing ended: the person's sign-up is active again
    (kept as it was, or made from their role in that pair). True if it was new."""
    pair = pairing.member_pair(
        session, team_id=team_id, pair_id=pair_id, user_id=user_id, active=False
    )
    if pair.status != "ended":
        raise UserError(NOT_MINE)
    if pool.rejoin(session, team_id=team_id, user_id=user_id, role=pair.role_of(user_id), now=now):
        return True
    text = content.message("pool_already_in")
    planned = outgoing.answer(
        team_id=team_id, user_id=user_id, text=text, response_url=response_url, now=now
    )
    outbox.plan(session, [planned], now=now)
    return False
