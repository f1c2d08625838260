"""Repository functions: every query the app makes, scoped by ``team_id``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, delete, exists, func, insert, or_, select, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached

from bot.store.db import Prepared, core
from bot.store.models import Meeting, Pair, Person, ProcessedEvent, Workspace, partner_in

OPEN_PAIR_STATUSES = ("invited", "active")


# The sender's send-time checks and every button ask for one pair or one person by key:
# statements built once with bind parameters, since building SQLAlchemy's cache key
# for a fresh statement costs as much as SQLite's answer.
_PAIR = select(Pair).where(Pair.team_id == bindparam("team_id"), Pair.id == bindparam("pair_id"))
# Locked, the row is read afresh even when the session holds the pair already: what
# the lock waited for (another transaction's commit, e.g. an Accept) is then seen.
_PAIR_LOCKED = _PAIR.with_for_update().execution_options(populate_existing=True)
_PERSON = select(Person).where(
    Person.team_id == bindparam("team_id"), Person.user_id == bindparam("user_id")
)


def get_pair(session: Session, *, team_id: str, pair_id: int, lock: bool = False) -> Pair | None:
    query = _PAIR_LOCKED if lock else _PAIR
    return session.scalars(query, {"team_id": team_id, "pair_id": pair_id}).first()


_PAIRS = Pair.__table__
_PEOPLE = Person.__table__
_THIS_PAIR = (_PAIRS.c.team_id == bindparam("team_id"), _PAIRS.c.id == bindparam("pair_id"))
# In an UPDATE, a bind parameter may not be named after a column of the table.
_PAIR_TO_CHANGE = (_PAIRS.c.team_id == bindparam("in_team"), _PAIRS.c.id == bindparam("pair_id"))

# The sender's send-time checks and settles touch a pair or a person by key, for every
# row it delivers: plain Core statements on the session's connection, built once. An
# ORM object loaded, changed and flushed costs several times what SQLite does.
_PAIR_STATUS = select(_PAIRS.c.status).where(*_THIS_PAIR)
_PAIR_INVITE_PLACE = select(_PAIRS.c.invite_channel_id, _PAIRS.c.invite_ts).where(*_THIS_PAIR)
_SET_INVITE_PLACE = (
    _PAIRS.update()
    .where(*_PAIR_TO_CHANGE)
    .values(invite_channel_id=bindparam("to_channel"), invite_ts=bindparam("to_ts"))
    .returning(_PAIRS.c.inviter_id, _PAIRS.c.mentor_id, _PAIRS.c.mentee_id)
)
_SET_GROUP = _PAIRS.update().where(*_PAIR_TO_CHANGE).values(channel_id=bindparam("to_channel"))


def pair_status(session: Session | Connection, *, team_id: str, pair_id: int) -> str | None:
    """The pair's status; None if there is no such pair (any more)."""
    return session.execute(_PAIR_STATUS, {"team_id": team_id, "pair_id": pair_id}).scalar()


def invitation_place(
    session: Session | Connection, *, team_id: str, pair_id: int
) -> tuple[str, str] | None:
    """Where the pair's invitation DM was posted; None if it never was."""
    row = session.execute(_PAIR_INVITE_PLACE, {"team_id": team_id, "pair_id": pair_id}).first()
    if row is None or not row.invite_channel_id or not row.invite_ts:
        return None
    return row.invite_channel_id, row.invite_ts


def set_invitation_place(
    session: Session, *, team_id: str, pair_id: int, channel_id: str, ts: str
) -> tuple[str, str] | None:
    """Record where the invitation DM went; the pair's (inviter, invitee), or None if the
    pair is gone."""
    row = (
        core(session)
        .execute(
            _SET_INVITE_PLACE,
            {"in_team": team_id, "pair_id": pair_id, "to_channel": channel_id, "to_ts": ts},
        )
        .first()
    )
    if row is None:
        return None
    _expire_loaded(session, Pair, lambda p: p.id == pair_id, ["invite_channel_id", "invite_ts"])
    return row.inviter_id, partner_in(row.mentor_id, row.mentee_id, row.inviter_id)


def set_group(session: Session, *, team_id: str, pair_id: int, channel_id: str) -> None:
    """The pair's group DM exists now."""
    core(session).execute(
        _SET_GROUP, {"in_team": team_id, "pair_id": pair_id, "to_channel": channel_id}
    )
    _expire_loaded(session, Pair, lambda p: p.id == pair_id, ["channel_id"])


# A new person's row: every column, as the statements that add people insert it.
def _new_person(team_id: str, user_id: str, **values: Any) -> dict[str, Any]:
    return {
        "team_id": team_id,
        "user_id": user_id,
        "display_name": "",
        "tz": "UTC",
        "tz_checked_at": None,
        "tips_enabled": True,
        "tip_minute": None,
        "tips_sent": 0,
        "tip_seed": _stable_seed(team_id, user_id),
        "blocked_at": None,
        "blocked_reason": None,
        "paused_until": None,
        "tips_planned_until": None,
        **values,
    }


def _upsert_people(postgresql: bool, keep_tz: bool, keep_name: bool) -> Any:
    """Add people, or update the ones there: their time zone (and when it was read)
    unless ``keep_tz``, their name unless ``keep_name``; nothing else of theirs."""
    statement = (pg_insert if postgresql else sqlite_insert)(_PEOPLE)
    changes = {}
    if not keep_tz:
        changes.update(tz=statement.excluded.tz, tz_checked_at=statement.excluded.tz_checked_at)
    if not keep_name:
        changes.update(display_name=statement.excluded.display_name)
    keys = ["team_id", "user_id"]
    if not changes:
        return statement.on_conflict_do_nothing(index_elements=keys)
    return statement.on_conflict_do_update(index_elements=keys, set_=changes)


_UPSERT_PEOPLE = {
    (postgresql, keep_tz, keep_name): _upsert_people(postgresql, keep_tz, keep_name)
    for postgresql in (False, True)
    for keep_tz in (False, True)
    for keep_name in (False, True)
}


def record_people(
    session: Session, *, team_id: str, people: dict[str, tuple[str, str]], now: datetime
) -> None:
    """People as Slack described them just now (user -> (time zone, name)): added if
    new, their zone and name updated if not (an empty one leaves what is there)."""
    connection = core(session)
    postgresql = connection.dialect.name == "postgresql"
    for user_id, (tz, name) in people.items():
        row = _new_person(
            team_id, user_id, tz=tz or "UTC", tz_checked_at=now, display_name=name or ""
        )
        connection.execute(_UPSERT_PEOPLE[postgresql, not tz, not name], row)
    changed = ["tz", "tz_checked_at", "display_name"]
    _expire_loaded(session, Person, lambda p: p.team_id == team_id and p.user_id in people, changed)


def _starting_tips(postgresql: bool) -> Any:
    """Add people with tips from ``tips_planned_until`` on, or start the tips of the
    ones there who have them on and none planned (one statement for both)."""
    statement = (pg_insert if postgresql else sqlite_insert)(_PEOPLE)
    idle = _PEOPLE.c.tips_enabled.is_(True) & _PEOPLE.c.tips_planned_until.is_(None)
    starting = case(
        (idle, statement.excluded.tips_planned_until), else_=_PEOPLE.c.tips_planned_until
    )
    return statement.on_conflict_do_update(
        index_elements=["team_id", "user_id"], set_={"tips_planned_until": starting}
    )


_START_TIPS = {postgresql: _starting_tips(postgresql) for postgresql in (False, True)}


def start_tips(session: Session, *, team_id: str, user_ids: Sequence[str], now: datetime) -> None:
    """The people (added if new) get tips from ``now`` on, those who have them on and
    none planned yet: the planning pass plans each one's next tip time from there."""
    connection = core(session)
    connection.execute(
        _START_TIPS[connection.dialect.name == "postgresql"],
        [_new_person(team_id, user, tips_planned_until=now) for user in user_ids],
    )
    wanted = set(user_ids)
    _expire_loaded(
        session,
        Person,
        lambda p: p.team_id == team_id and p.user_id in wanted,
        ["tips_planned_until"],
    )


def _expire_loaded(session: Session, model: type, match: Any, attributes: list[str]) -> None:
    """A Core statement changed these columns: objects of the session that hold them
    read them again when next asked, instead of answering from before."""
    if not isinstance(session, Session):
        return  # a bare connection holds no objects
    for obj in list(session.identity_map.values()):
        if isinstance(obj, model) and match(obj):
            session.expire(obj, attributes)


def open_pair_between(session: Session, *, team_id: str, a: str, b: str) -> Pair | None:
    return session.scalars(
        select(Pair).where(
            Pair.team_id == team_id,
            Pair.status.in_(OPEN_PAIR_STATUSES),
            or_(
                (Pair.mentor_id == a) & (Pair.mentee_id == b),
                (Pair.mentor_id == b) & (Pair.mentee_id == a),
            ),
        )
    ).first()


@dataclass(frozen=True)
class Between:
    """What lies between two people: an open pair (its status), and when one of them
    last declined an invitation from the other (by who invited)."""

    open_status: str | None
    declined_at: dict[str, datetime]
    open_inviter: str | None = None  # who sent the open pair's invitation
    withdrawn: tuple[tuple[str, datetime], ...] = ()  # (who withdrew, when), each time
    open_pair_id: int | None = None
    open_since: datetime | None = None  # when the open pair was asked for


# Built once: `/mentor start` asks this before its ack, and building the statement
# costs more than SQLite answering it.
def _pairs_with(mentor: str, mentee: str) -> Any:
    return select(Pair.status, Pair.inviter_id, Pair.ended_at, Pair.id, Pair.created_at).where(
        Pair.team_id == bindparam("team_id"),
        Pair.mentor_id == bindparam(mentor),
        Pair.mentee_id == bindparam(mentee),
    )


# Two seeks on (team, mentor, mentee), one each way round: written as an OR, SQLite
# reads every pair of the team instead. Run on the driver's cursor (``Prepared``).
_BETWEEN = Prepared(union_all(_pairs_with("a", "b"), _pairs_with("b", "a")))


def between(session: Session, *, team_id: str, a: str, b: str) -> Between:
    """The pairs of ``a`` and ``b``, in one query: an open one, and the last declines."""
    open_status = open_inviter = open_pair_id = open_since = None
    declined: dict[str, datetime] = {}
    withdrawn: list[tuple[str, datetime]] = []
    rows = _BETWEEN.rows(session, {"team_id": team_id, "a": a, "b": b})
    for status, inviter, ended_at, pair_id, created_at in rows:
        if status in OPEN_PAIR_STATUSES:
            open_status, open_inviter = status, inviter
            open_pair_id, open_since = pair_id, created_at
        elif status == "declined" and ended_at is not None:
            declined[inviter] = max(ended_at, declined.get(inviter, ended_at))
        elif status == "withdrawn" and ended_at is not None:
            withdrawn.append((inviter, ended_at))
    return Between(
        open_status=open_status,
        declined_at=declined,
        open_inviter=open_inviter,
        withdrawn=tuple(withdrawn),
        open_pair_id=open_pair_id,
        open_since=open_since,
    )


def invitations_asked_before(session: Session, *, before: datetime) -> list[tuple[str, int]]:
    """(team, pair id) of every invitation still unanswered that was sent before
    ``before``, in every workspace, oldest first."""
    return [
        (team_id, pair_id)
        for team_id, pair_id in session.execute(
            select(Pair.team_id, Pair.id)
            .where(Pair.status == "invited", Pair.created_at < before)
            .order_by(Pair.created_at, Pair.id)
        )
    ]


def pairs_of(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    statuses: Sequence[str] | None = OPEN_PAIR_STATUSES,
) -> list[Pair]:
    """The person's pairs with one of ``statuses`` (None: whatever the status), oldest
    first."""
    query = select(Pair).where(
        Pair.team_id == team_id, or_(Pair.mentor_id == user_id, Pair.mentee_id == user_id)
    )
    if statuses is not None:
        query = query.where(Pair.status.in_(statuses))
    return list(session.scalars(query.order_by(Pair.created_at, Pair.id)))


def lock_pair(session: Session, *, team_id: str, pair_id: int) -> None:
    """Lock the pair's row (PostgreSQL; SQLite has one writer) so that two changes to
    what the pair holds (goals, parked questions) run one after the other."""
    session.scalars(
        select(Pair.id).where(Pair.team_id == team_id, Pair.id == pair_id).with_for_update()
    ).first()


def lock_pairs_of(session: Session, *, team_id: str, user_ids: Sequence[str]) -> None:
    """Lock every active pair of these people (PostgreSQL; SQLite has one writer), in id
    order so that two lockers never wait on each other: what one of them may set in any
    of their pairs (a meeting) is then decided one after the other."""
    people = list(user_ids)
    session.scalars(
        select(Pair.id)
        .where(
            Pair.team_id == team_id,
            Pair.status == "active",
            or_(Pair.mentor_id.in_(people), Pair.mentee_id.in_(people)),
        )
        .order_by(Pair.id)
        .with_for_update()
    ).all()


def pair_counts(session: Session, *, team_id: str, statuses: Sequence[str]) -> dict[str, int]:
    """How many pairs the workspace has in each of these statuses (absent: none)."""
    return {
        status: int(count)
        for status, count in session.execute(
            select(Pair.status, func.count())
            .where(Pair.team_id == team_id, Pair.status.in_(statuses))
            .group_by(Pair.status)
        )
    }


def pair_channel(session: Session, *, team_id: str, pair_id: int) -> str | None:
    """The pair's group DM, once its kickoff has opened it."""
    return session.scalar(
        select(Pair.channel_id).where(Pair.team_id == team_id, Pair.id == pair_id)
    )


def meeting_starts(session: Session, *, team_id: str, pair_id: int) -> dict[int, datetime]:
    """When each of the pair's meetings that was not cancelled starts, by id."""
    rows = session.execute(
        select(Meeting.id, Meeting.starts_at).where(
            Meeting.team_id == team_id,
            Meeting.pair_id == pair_id,
            Meeting.status == "scheduled",
        )
    )
    return {meeting_id: starts_at for meeting_id, starts_at in rows}


def upcoming_meetings(
    session: Session, *, team_id: str, pair_id: int, now: datetime
) -> list[Meeting]:
    return list(
        session.scalars(
            select(Meeting)
            .where(
                Meeting.team_id == team_id,
                Meeting.pair_id == pair_id,
                Meeting.status == "scheduled",
                Meeting.starts_at > now,
            )
            .order_by(Meeting.starts_at)
        )
    )


def get_person(session: Session, *, team_id: str, user_id: str) -> Person | None:
    return session.scalars(_PERSON, {"team_id": team_id, "user_id": user_id}).first()


# Slack time zones change rarely (a move, a trip); older answers are asked again.
TZ_FRESH_FOR = timedelta(days=7)


_ZONE = select(Person.tz, Person.tz_checked_at).where(
    Person.team_id == bindparam("team_id"), Person.user_id == bindparam("user_id")
)


def recent_tz(session: Session, *, team_id: str, user_id: str, now: datetime) -> str | None:
    row = session.execute(_ZONE, {"team_id": team_id, "user_id": user_id}).first()
    if row is None or row.tz_checked_at is None or row.tz_checked_at < now - TZ_FRESH_FOR:
        return None
    return row.tz


def ensure_person(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    tz: str | None = None,
    display_name: str | None = None,
    checked_at: datetime | None = None,
) -> Person:
    person = get_person(session, team_id=team_id, user_id=user_id)
    if person is None:
        values = _new_person(
            team_id,
            user_id,
            display_name=display_name or "",
            tz=tz or "UTC",
            tz_checked_at=checked_at,
        )
        # Another transaction may be adding the same person right now (two deliveries
        # that name the same inviter): then theirs is the row, and no savepoint is needed.
        connection = session.connection()
        statement = _ADD_PERSON[connection.dialect.name == "postgresql"]
        added = connection.execute(statement, values).scalar_one_or_none()
        if added is None:
            person = get_person(session, team_id=team_id, user_id=user_id)
            assert person is not None  # the other transaction's row, committed
            return _updated(person, tz=tz, display_name=display_name, checked_at=checked_at)
        return _as_loaded(session, Person(id=added, **values))
    return _updated(person, tz=tz, display_name=display_name, checked_at=checked_at)


def _as_loaded(session: Session, row: Any) -> Any:
    """A row just inserted by a statement of its own, made an object of the session as
    if loaded (persistent under its id: no second INSERT at the flush)."""
    make_transient_to_detached(row)
    session.add(row)
    return row


def _updated(
    person: Person, *, tz: str | None, display_name: str | None, checked_at: datetime | None
) -> Person:
    if tz:
        person.tz = tz
        person.tz_checked_at = checked_at
    if display_name:
        person.display_name = display_name
    return person


# (SQLite, PostgreSQL): a new person's row, or nothing if (team, user) has one already.
_ADD_PERSON = tuple(
    insert_for(Person.__table__)
    .on_conflict_do_nothing(index_elements=["team_id", "user_id"])
    .returning(Person.id)
    for insert_for in (sqlite_insert, pg_insert)
)


def mark_tz_checked(session: Session, *, team_id: str, user_id: str, now: datetime) -> None:
    """Slack was asked for the person's time zone and gave none: the zone stays, and
    the next question waits ``TZ_FRESH_FOR``."""
    person = get_person(session, team_id=team_id, user_id=user_id)
    if person is not None:
        person.tz_checked_at = now


def _stable_seed(team_id: str, user_id: str) -> int:
    import zlib

    return zlib.crc32(f"{team_id}:{user_id}".encode()) & 0x7FFFFFFF  # fits a 32-bit INTEGER


def forget_events(session: Session, *, before: datetime) -> int:
    """Drop event IDs received before ``before``: Slack redelivers within minutes, so
    older ones only grow the table (the scheduler pass calls this)."""
    result = session.execute(
        delete(ProcessedEvent)
        .where(ProcessedEvent.received_at < before)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def remember_event(session: Session, *, team_id: str, event_id: str, now: datetime) -> bool:
    """Record an event ID; False if it was already seen (a redelivery)."""
    try:
        with session.begin_nested():
            session.add(ProcessedEvent(team_id=team_id, event_id=event_id, received_at=now))
        return True
    except IntegrityError:
        return False


# Run on the driver's cursor, like _BETWEEN: `/mentor start` waits for it before its ack.
# Every column but the id is given (``add_pair``'s values).
_INSERT_PAIR = Prepared(
    insert(Pair).returning(Pair.id),
    columns=tuple(column.key for column in _PAIRS.columns if not column.primary_key),
)


def add_pair(
    session: Session,
    *,
    team_id: str,
    mentor_id: str,
    mentee_id: str,
    inviter_id: str,
    status: str,
    created_at: datetime,
) -> int:
    """A new pair, inserted at once (one statement, not the ORM's flush: this is the hot
    write of `/mentor start`); its id. No ORM object is made for it (building one costs
    more than the insert): a caller that changes the pair loads it."""
    values = {
        "team_id": team_id,
        "mentor_id": mentor_id,
        "mentee_id": mentee_id,
        "inviter_id": inviter_id,
        "status": status,
        "channel_id": None,
        "invite_channel_id": None,
        "invite_ts": None,
        "created_at": created_at,
        "accepted_at": None,
        "ended_at": None,
        "ended_by": None,
    }
    ((pair_id,),) = _INSERT_PAIR.rows(session, values)
    return pair_id


def delete_pair(session: Session, pair: Pair) -> None:
    """Delete a pair (an invitation withdrawn before anyone saw it); its rows go with it."""
    session.delete(pair)


def stale_time_zones(session: Session, *, now: datetime, limit: int) -> list[tuple[str, str]]:
    """(team, user) of people who get tips and whose time zone was last read from Slack
    over ``TZ_FRESH_FOR`` ago, or never (invited during a burst, when the invitation
    went without asking Slack first), in workspaces that are not paused: at most
    ``limit``, the never-read first."""
    rows = session.execute(
        select(Person.team_id, Person.user_id)
        .where(
            Person.tips_planned_until.is_not(None),
            or_(Person.tz_checked_at.is_(None), Person.tz_checked_at < now - TZ_FRESH_FOR),
            ~exists().where(Workspace.team_id == Person.team_id),
        )
        .order_by(Person.tz_checked_at.is_not(None))
        .limit(limit)
    )
    return [(team, user) for team, user in rows]


def team_known(session: Session, *, team_id: str) -> bool:
    """Whether anyone of this workspace has met the bot here (a person or a pair): a
    command line's ``--team`` that is not is most likely mistyped."""
    return bool(
        session.scalar(
            select(
                exists().where(Person.team_id == team_id) | exists().where(Pair.team_id == team_id)
            )
        )
    )
