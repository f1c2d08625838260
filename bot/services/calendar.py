"""Scheduling help without calendar access: the times the schedule modal suggests, and
the ``.ics`` versions a confirmed, moved or cancelled meeting sends.

The suggestions come from what the bot already stores (each person's Slack time zone,
the working hours they gave the sign-up pool, the pair's agreed cadence, every meeting
either of them has set) and are computed in ``bot.domain.slots``; nobody's calendar is
read. A calendar file is an outbox row (``outgoing.CALENDAR_FILE``) written in the same
transaction as the change it tells of; its bytes are built when it is sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from bot import outgoing
from bot.content import Content
from bot.domain.errors import Conflict, NotFound, TimesTaken
from bot.domain.meetings import clashes
from bot.domain.permissions import require_member
from bot.domain.slots import Busy, availability, suggest_slots
from bot.store import calendar, goals, meetings, outbox, repo
from bot.store.models import Meeting, Pair

SUGGESTIONS = 3  # one per meeting picker of the schedule modal


def suggested_times(
    session: Session, *, team_id: str, pair_id: int, minutes: int, now: datetime
) -> list[datetime]:
    """Up to three start times (UTC) inside both members' working days, a cadence step
    apart, clear of every meeting either of them has set; [] when the pair is gone or
    their working hours never meet."""
    pair = repo.get_pair(session, team_id=team_id, pair_id=pair_id)
    if pair is None:
        return []
    people = [
        availability(h.tz, h.work_start, h.work_end)
        for h in calendar.working_hours(session, team_id=team_id, user_ids=pair.members)
    ]
    busy = [
        Busy(starts, length)
        for starts, length in calendar.meetings_of_people(
            session, team_id=team_id, user_ids=pair.members, ending_after=now
        )
    ]
    agreement = goals.agreement_of(session, team_id=team_id, pair_id=pair.id)
    return suggest_slots(
        people,
        now=now,
        minutes=minutes,
        cadence=agreement.cadence if agreement is not None else None,
        busy=busy,
        last_meeting=calendar.latest_meeting(session, team_id=team_id, pair_id=pair.id),
        count=SUGGESTIONS,
    )


def refuse_clashes(
    session: Session,
    pair: Pair,
    times: Sequence[datetime],
    *,
    minutes: int,
    now: datetime,
    leaving_out: int | None = None,
) -> None:
    """``TimesTaken`` when a new time overlaps a meeting either member already has (any
    of their pairs) or the new one above it. Every active pair of both members is
    locked first, so two saves at once (both members pressed Schedule, or two pairs
    that share a member) are checked one after the other."""
    repo.lock_pairs_of(session, team_id=pair.team_id, user_ids=pair.members)
    if repo.pair_status(session, team_id=pair.team_id, pair_id=pair.id) != "active":
        # Ended while the lock was waited for (read afresh: the session's copy is older).
        raise Conflict("That pairing has ended, so there is nothing more to do for its meetings.")
    taken = calendar.meetings_of_people(
        session,
        team_id=pair.team_id,
        user_ids=pair.members,
        ending_after=now,
        leaving_out=leaving_out,
    )
    own = repo.meeting_starts(session, team_id=pair.team_id, pair_id=pair.id)
    already = {start for meeting_id, start in own.items() if meeting_id != leaving_out}
    problems = clashes(times, minutes, taken, already)
    if problems:
        raise TimesTaken(problems)


def send_calendar_files(
    session: Session,
    changed: Iterable[Meeting],
    *,
    cancelled: bool = False,
    now: datetime,
    to_user: str | None = None,
) -> None:
    """The ``.ics`` of each meeting as it stands now (its current SEQUENCE), to the pair's
    group DM (or ``to_user``'s DM): one row, one message with a file per meeting. Call it
    after the change and its ``bump_sequence``, in the same transaction."""
    rows = list(changed)
    size = outgoing.CALENDAR_FILES_PER_MESSAGE
    outbox.plan(
        session,
        [
            outgoing.calendar_file(
                team_id=batch[0].team_id,
                pair_id=batch[0].pair_id,
                events=[
                    outgoing.calendar_entry(
                        meeting_id=m.id,
                        starts_at=m.starts_at,
                        minutes=m.minutes,
                        sequence=m.calendar_sequence or 0,
                        cancelled=cancelled,
                    )
                    for m in batch
                ],
                now=now,
                to_user=to_user,
            )
            for batch in (rows[i : i + size] for i in range(0, len(rows), size))
        ],
        now=now,
    )


def change_sequence(session: Session, meeting: Meeting) -> int:
    """Raise the meeting's SEQUENCE (a move, a cancellation) beside the change itself."""
    value = calendar.bump_sequence(session, team_id=meeting.team_id, meeting_id=meeting.id)
    return int(value or 0)


def check_link(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    meeting_id: int,
    sequence: int,
    content: Content,
) -> None:
    """A press on a meeting's add-to-calendar link (Slack has opened the link already):
    nothing to do for a member whose link is current; anyone else, or a link to a
    version of the meeting that has changed since, hears why (``UserError``)."""
    meeting = meetings.get_meeting(session, team_id=team_id, meeting_id=meeting_id)
    if meeting is None:
        raise NotFound("I can't find that meeting any more. Try `/mentor status`.")
    require_member(user_id, meeting.pair.members)
    if meeting.status != "scheduled":
        raise Conflict(content.message("calendar_link_cancelled"))
    if (meeting.calendar_sequence or 0) != sequence:
        raise Conflict(content.message("calendar_link_moved"))
