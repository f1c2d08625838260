"""A pair's goals and agreement, their progress, and the question parking lot.

The use cases behind **Set our goals**, the mentee's progress taps and
``/mentor ask``; and the reads that delivery makes at send time, so that a prep
prompt, a feedback poll or the goal card shows the pair's goals and questions as
they are when the message goes out (never as they were when it was planned).
The pair's words never leave the pair: coordinators get ``store.goals.goal_counts``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot import outgoing
from bot.domain.errors import Conflict, NotAllowed, NotFound, UserError
from bot.domain.goals import (
    STALE_FORM,
    Agreement,
    GoalInput,
    GoalState,
    ProgressTap,
    asks_progress,
    check_plan,
    plan_seen,
)
from bot.domain.meetings import places
from bot.domain.questions import Question, for_prep
from bot.services.answers import Home, refresh_home
from bot.services.pairing import member_pair
from bot.store import goals as goal_store
from bot.store import meetings, outbox, repo
from bot.store import questions as question_store
from bot.store.models import Meeting, Pair

# ---------------------------------------------------------------- the form


def goals_form(
    session: Session, *, team_id: str, pair_id: int, user_id: str
) -> tuple[list[GoalState], Agreement]:
    """What the **Set our goals** form opens with; only a member of the active pair."""
    pair = member_pair(session, team_id=team_id, pair_id=pair_id, user_id=user_id)
    agreement = goal_store.agreement_of(session, team_id=team_id, pair_id=pair.id)
    return (
        goal_store.states_of(session, team_id=team_id, pair_id=pair.id),
        goal_store.agreement_value(agreement),
    )


def _today(session: Session, *, team_id: str, user_id: str, now: datetime) -> date:
    """The submitter's local date: a goal "by tomorrow" means their tomorrow."""
    person = repo.get_person(session, team_id=team_id, user_id=user_id)
    try:
        zone = ZoneInfo(person.tz if person is not None and person.tz else "UTC")
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    return now.astimezone(zone).date()


def save_goals(
    session: Session,
    *,
    team_id: str,
    pair_id: int,
    user_id: str,
    goals: Sequence[GoalInput],
    agreement: Agreement,
    now: datetime,
    home: Home | None = None,
    seen: str | None = None,
) -> dict[tuple[int, str] | str, str]:
    """The submitted form, checked here whatever the modal allowed. The problems when
    there are any (nothing is written); else the plan saved and, in the same
    transaction, the goal card posted (the first time) or updated in the group DM, and
    ``home`` (the submitter's App Home) refreshed. ``seen``: what the form opened on
    (``plan_seen``); saved differently since, it is refused, nothing written."""
    pair = member_pair(session, team_id=team_id, pair_id=pair_id, user_id=user_id)
    saved = goal_store.states_of(session, team_id=team_id, pair_id=pair.id)
    if seen is not None:
        stored = goal_store.agreement_of(session, team_id=team_id, pair_id=pair.id)
        if plan_seen(saved, goal_store.agreement_value(stored)) != seen:
            return {"stale": STALE_FORM}
    plan, problems = check_plan(
        goals,
        agreement,
        today=_today(session, team_id=team_id, user_id=user_id, now=now),
        saved_dates={goal.position: goal.by_when for goal in saved},
    )
    if plan is None:
        return problems
    goal_store.save_plan(session, team_id=team_id, pair_id=pair.id, plan=plan, now=now)
    nothing = not plan.goals and plan.agreement.empty
    if not (nothing and goal_store.card_of(session, team_id=team_id, pair_id=pair.id) is None):
        # An empty form saved before any card: no "No goals yet" card in the group DM.
        plan_card(session, team_id=team_id, pair_id=pair.id, now=now)
    if home is not None:
        refresh_home(session, home, now=now)
    return {}


def plan_card(session: Session, *, team_id: str, pair_id: int, now: datetime) -> None:
    """The goal card, brought up to date. Its delivery reads the goals as they are then,
    so a card still waiting is enough: a newer one replaces it."""
    outbox.cancel_pending(session, team_id=team_id, pair_id=pair_id, kinds=(outgoing.GOAL_CARD,))
    outbox.plan(session, [outgoing.goal_card(team_id=team_id, pair_id=pair_id, now=now)], now=now)


# ---------------------------------------------------------------- progress


def _poll_number(session: Session, meeting: Meeting) -> int:
    """Which feedback poll of the pair a meeting's is: its place among the meetings not
    cancelled (a cancelled meeting has no poll)."""
    return meetings.poll_number(session, meeting=meeting)


def _asking_meeting(
    session: Session, *, team_id: str, pair: Pair, meeting_id: int | None, user_id: str
) -> Meeting | None:
    """The meeting whose poll asks ``user_id`` about the goals, or None: only the
    mentee's poll, and only every second one."""
    if meeting_id is None or user_id != pair.mentee_id:
        return None
    meeting = meetings.get_meeting(session, team_id=team_id, meeting_id=meeting_id)
    if meeting is None or meeting.pair_id != pair.id:
        return None
    return meeting if asks_progress(_poll_number(session, meeting)) else None


def record_goal_progress(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    tap: ProgressTap,
    now: datetime,
    response_url: str | None = None,
) -> GoalState:
    """One tap of progress, by the mentee of that pair, from the poll that asked: saved,
    the goal card updated, and the poll redrawn with the tap marked."""
    pair = repo.get_pair(session, team_id=team_id, pair_id=tap.pair_id)
    if pair is None:
        raise NotFound("I can't find that pairing any more.")
    if user_id not in pair.members:
        raise NotAllowed("That belongs to a pairing you're not part of, so I left it as it was.")
    if user_id != pair.mentee_id:
        raise NotAllowed(
            "Progress on the goals is the mentee's to mark; the goal card shows it to you both."
        )
    if pair.status != "active":
        raise Conflict("That pairing has ended, so its goals can't change.")
    meeting = _asking_meeting(
        session, team_id=team_id, pair=pair, meeting_id=tap.meeting_id, user_id=user_id
    )
    if meeting is None:
        raise UserError("That button is not one of mine any more, so I left everything as it was.")
    goal = goal_store.record_progress(
        session,
        team_id=team_id,
        pair_id=pair.id,
        goal_id=tap.goal_id,
        meeting_id=meeting.id,
        progress=tap.progress,
        now=now,
    )
    if goal is None:
        raise Conflict(
            "That goal was changed or removed meanwhile, so I left everything as it was."
        )
    plan_card(session, team_id=team_id, pair_id=pair.id, now=now)
    poll = outbox.sent_poll(
        session, team_id=team_id, user_id=user_id, pair_id=pair.id, meeting_id=meeting.id
    )
    if poll is not None:
        answer = meetings.feedback_of(
            session, pair_id=pair.id, meeting_id=meeting.id, user_id=user_id
        )
        planned = outgoing.to_person(
            outgoing.POLL_UPDATE,
            team_id=team_id,
            user_id=user_id,
            now=now,
            pair_id=pair.id,
            payload={
                "channel": poll[0],
                "ts": poll[1],
                "pair_id": pair.id,
                "meeting_id": meeting.id,
                "partner_id": pair.mentor_id,
                "starts_at": meeting.starts_at.isoformat(),
                "happened": answer.happened if answer else None,
                "usefulness": answer.usefulness if answer else None,
                "has_details": bool(answer and (answer.helped or answer.change)),
            },
        )
        outbox.plan(session, [planned], now=now)
    elif response_url:
        outbox.plan(
            session,
            [
                outgoing.respond(
                    team_id=team_id,
                    user_id=user_id,
                    response_url=response_url,
                    now=now,
                    text="Noted: your goal card shows it now.",
                )
            ],
            now=now,
        )
    return goal_store.as_state(goal)


# ---------------------------------------------------------------- read at send time


def poll_goals(
    session: Session, *, team_id: str, pair_id: int, meeting_id: int | None, user_id: str
) -> dict[str, Any]:
    """What a feedback poll (or its redraw) adds for the goals: nothing, except on the
    mentee's every second poll of a pair with goals."""
    pair = repo.get_pair(session, team_id=team_id, pair_id=pair_id)
    if pair is None or pair.status != "active":
        return {}
    meeting = _asking_meeting(
        session, team_id=team_id, pair=pair, meeting_id=meeting_id, user_id=user_id
    )
    if meeting is None:
        return {}
    states = goal_store.states_of(session, team_id=team_id, pair_id=pair.id)
    if not states:
        return {}
    chosen = goal_store.progress_on(
        session, team_id=team_id, goal_ids=[g.id for g in states], meeting_id=meeting.id
    )
    return {
        "goals": [g.to_payload() for g in states],
        "goals_chosen": {str(goal_id): progress for goal_id, progress in chosen.items()},
    }


def prep_extras(
    session: Session, *, team_id: str, pair_id: int, meeting_id: int | None = None
) -> dict[str, Any]:
    """What a prep prompt adds: the pair's goals ("progress on: …"), the questions
    parked for the meeting, and the meeting's place in the pair's order (the first
    gets the first-meeting agenda, whichever it was scheduled as), as they are now."""
    states = goal_store.states_of(session, team_id=team_id, pair_id=pair_id)
    prep = for_prep(question_store.open_questions(session, team_id=team_id, pair_id=pair_id))
    place = places(repo.meeting_starts(session, team_id=team_id, pair_id=pair_id))
    return {
        **({"number": place[meeting_id]} if meeting_id in place else {}),
        "goals": [g.to_payload() for g in states],
        "questions": [
            {"id": q.id, "asked_by": q.asked_by, "text": q.text, "asked_at": q.asked_at.isoformat()}
            for q in prep.shown
        ],
        "questions_more": prep.more,
    }


def card_data(session: Session, *, team_id: str, pair_id: int) -> dict[str, Any] | None:
    """Everything the goal card shows and where it is; None when the pair is gone."""
    pair = repo.get_pair(session, team_id=team_id, pair_id=pair_id)
    if pair is None:
        return None
    agreement = goal_store.agreement_value(
        goal_store.agreement_of(session, team_id=team_id, pair_id=pair.id)
    )
    card = goal_store.card_of(session, team_id=team_id, pair_id=pair.id)
    states = goal_store.states_of(session, team_id=team_id, pair_id=pair.id)
    return {
        "pair_id": pair.id,
        "mentor_id": pair.mentor_id,
        "mentee_id": pair.mentee_id,
        "goals": [g.to_payload() for g in states],
        "agreement": {
            "cadence": agreement.cadence,
            "contact": agreement.contact,
            "confidential": agreement.confidential,
        },
        "card": list(card) if card else None,
        "channel": pair.channel_id,
    }


def card_posted(
    session: Session,
    *,
    team_id: str,
    pair_id: int,
    channel_id: str,
    ts: str,
    now: datetime,
    replacing: tuple[str, str] | None = None,
) -> None:
    """A card was posted (there was none, or ``replacing`` was gone from Slack). Two
    deliveries at once (two quick saves, two workers) can both find no card and post
    one each: the first to settle stays the pair's card, the other is deleted in Slack
    and the one kept is brought up to date."""
    if goal_store.set_card(
        session,
        team_id=team_id,
        pair_id=pair_id,
        channel_id=channel_id,
        ts=ts,
        now=now,
        replacing=replacing,
    ):
        return
    duplicate = outgoing.slack_delete(team_id=team_id, channel=channel_id, ts=ts, now=now)
    outbox.plan(session, [duplicate], now=now)
    plan_card(session, team_id=team_id, pair_id=pair_id, now=now)


def home_goals(session: Session, *, team_id: str, user_id: str) -> dict[int, list[GoalState]]:
    """The goals of each of the person's active pairs, for their App Home."""
    pairs = repo.pairs_of(session, team_id=team_id, user_id=user_id, statuses=("active",))
    found = goal_store.goals_of_pairs(session, team_id=team_id, pair_ids=[p.id for p in pairs])
    return {pair_id: [goal_store.as_state(g) for g in rows] for pair_id, rows in found.items()}


# ---------------------------------------------------------------- the parking lot


def ask(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    question: str,
    partner_id: str | None,
    rest: str,
    now: datetime,
) -> Question:
    """``/mentor ask``: park a question for the pair's next meeting. With one active
    pair it is that pair's; with several, the question starts with the partner
    (``/mentor ask @partner …``). Empty, too long or too many open: refused, nothing
    saved (``bot.domain.questions.check_question``)."""
    pairs = repo.pairs_of(session, team_id=team_id, user_id=user_id, statuses=("active",))
    if not pairs:
        raise UserError(
            "You're not in an active mentoring pair, so there's no meeting to park a question "
            "for. Start one with `/mentor start @person`."
        )
    chosen = [p for p in pairs if partner_id is not None and p.partner_of(user_id) == partner_id]
    if chosen:
        pair, text = chosen[0], rest
    elif len(pairs) == 1:
        pair, text = pairs[0], question
    elif partner_id is not None:
        raise UserError(
            f"You're not in an active pair with <@{partner_id}>, and you're in more than one "
            "pair: start with the partner the question is for, e.g. "
            "`/mentor ask @partner How do I prepare for my first review?`"
        )
    else:
        raise UserError(
            "You're in more than one pair, so start with the partner the question is for, "
            "e.g. `/mentor ask @partner How do I prepare for my first review?`"
        )
    return question_store.park(
        session, team_id=team_id, pair_id=pair.id, user_id=user_id, text=text, now=now
    )
