"""What one person sees about themselves: pairs, next meetings, pending prompts, tips."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from bot.domain.invitations import INVITATION_LASTS, invitation_expired
from bot.domain.meetings import places
from bot.domain.pool import roles_open
from bot.outgoing import KICKOFF
from bot.store import meetings, outbox, repo
from bot.store import pool as pool_store
from bot.store.repo import OPEN_PAIR_STATUSES as OPEN


@dataclass(frozen=True)
class MeetingLine:
    meeting_id: int
    starts_at: datetime
    minutes: int
    number: int


@dataclass(frozen=True)
class PairLine:
    pair_id: int
    role: str  # the person's own role in this pair
    partner_id: str
    status: str
    invited_by_me: bool
    channel_id: str | None
    next_meetings: tuple[MeetingLine, ...] = ()
    answer_by: datetime | None = None  # an invitation: when it expires unanswered
    # An active pair whose group DM Slack has refused so far: why (its kickoff is tried
    # again until it succeeds).
    group_dm_refused: str | None = None


@dataclass(frozen=True)
class PendingPrompt:
    kind: str  # "prep" | "feedback"
    meeting_id: int
    starts_at: datetime
    partner_id: str = ""  # who the meeting is with (someone in two pairs has two)


@dataclass(frozen=True)
class Overview:
    user_id: str
    pairs: tuple[PairLine, ...]
    tips_enabled: bool
    tip_minute: int
    tz: str | None  # None: not known yet (asked of Slack when a tip is first planned)
    pending: tuple[PendingPrompt, ...] = field(default=())
    # ``/mentor pause``: no tips and no new matches until then (None: not paused).
    paused_until: datetime | None = None
    # In the sign-up pool as "mentor", "mentee" or "both" (None: not in it), and the
    # roles a match can pair them in now ("": none, their pairings fill what they offered).
    pool_role: str | None = None
    pool_open: str = ""
    tip_days: frozenset[int] = frozenset(range(5))  # content's, 0 = Monday

    @property
    def active(self) -> tuple[PairLine, ...]:
        return tuple(p for p in self.pairs if p.status == "active")

    @property
    def invitations(self) -> tuple[PairLine, ...]:
        return tuple(p for p in self.pairs if p.status == "invited")


def overview(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    now: datetime,
    default_tip_minute: int,
    default_tz: str | None = None,
    tip_days: frozenset[int] = frozenset(range(5)),
) -> Overview:
    lines = []
    for pair in repo.pairs_of(session, team_id=team_id, user_id=user_id):
        if pair.status == "invited" and invitation_expired(asked_at=pair.created_at, now=now):
            continue  # lapsed; the care pass closes it within the quarter hour
        ahead = repo.upcoming_meetings(session, team_id=team_id, pair_id=pair.id, now=now)
        place = places(repo.meeting_starts(session, team_id=team_id, pair_id=pair.id))
        lines.append(
            PairLine(
                pair_id=pair.id,
                role=pair.role_of(user_id),
                partner_id=pair.partner_of(user_id),
                status=pair.status,
                invited_by_me=pair.inviter_id == user_id,
                channel_id=pair.channel_id,
                answer_by=pair.created_at + INVITATION_LASTS if pair.status == "invited" else None,
                group_dm_refused=(
                    outbox.refused_so_far(session, pair_id=pair.id, kind=KICKOFF)
                    if pair.status == "active" and pair.channel_id is None
                    else None
                ),
                next_meetings=tuple(
                    MeetingLine(
                        meeting_id=m.id,
                        starts_at=m.starts_at,
                        minutes=m.minutes,
                        number=place[m.id],
                    )
                    for m in ahead[:3]
                ),
            )
        )
    person = repo.get_person(session, team_id=team_id, user_id=user_id)
    member = pool_store.get_member(session, team_id=team_id, user_id=user_id)
    return Overview(
        user_id=user_id,
        pairs=tuple(lines),
        tips_enabled=person.tips_enabled if person else True,
        tip_minute=(
            person.tip_minute if person and person.tip_minute is not None else default_tip_minute
        ),
        # A zone Slack has told us (a person row made before that holds "UTC" only as
        # a stand-in), else the caller's (App Home asks Slack), else none.
        tz=person.tz if person is not None and person.tz_checked_at else default_tz,
        pending=tuple(_pending_prompts(session, team_id=team_id, user_id=user_id, now=now)),
        paused_until=(
            person.paused_until
            if person is not None and person.paused_until and person.paused_until > now
            else None
        ),
        tip_days=tip_days,
        pool_role=member.roles if member is not None else None,
        pool_open=""
        if member is None
        else roles_open(
            member.roles,
            room=member.capacity - sum(1 for p in lines if p.status in OPEN and p.role == "mentor"),
            has_mentor=any(p.status in OPEN and p.role == "mentee" for p in lines),
        ),
    )


def _pending_prompts(
    session: Session, *, team_id: str, user_id: str, now: datetime
) -> list[PendingPrompt]:
    """Prompts that were sent to the person and still wait for their answer: not a
    meeting's that was cancelled, and no prep once its meeting has begun or moved (the
    prep of its new time is another prompt)."""
    rows = outbox.sent_to(
        session, team_id=team_id, user_id=user_id, kinds=("prep_mentee", "feedback"), limit=10
    )
    pending = []
    for row in rows:
        if row.payload.get("answered"):
            continue
        meeting = meetings.get_meeting(session, team_id=team_id, meeting_id=row.meeting_id or 0)
        if meeting is None or meeting.status == "cancelled":
            continue
        asked_about = datetime.fromisoformat(row.payload["starts_at"])
        if row.kind == "prep_mentee" and (
            meeting.starts_at <= now or meeting.starts_at != asked_about
        ):
            continue
        pending.append(
            PendingPrompt(
                kind="prep" if row.kind == "prep_mentee" else "feedback",
                meeting_id=row.meeting_id or 0,
                starts_at=datetime.fromisoformat(row.payload["starts_at"]),
                partner_id=meeting.pair.partner_of(user_id),
            )
        )
    return sorted(pending, key=lambda prompt: (prompt.starts_at, prompt.kind))
