"""One scheduler pass: plan what became plannable, then deliver everything due, once.

Delivery is at-least-once with a window of one Slack call: a row is claimed
(status ``sending``, leased to this worker), posted, and marked ``sent`` in its
own transaction right after Slack answers. Only a crash between Slack's answer
and that commit (milliseconds) can send a message twice — after the lease runs out.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.content import Content
from bot.domain.tips import STALE_AFTER
from bot.scheduling.planner import BATCH as PLAN_BATCH
from bot.scheduling.planner import plan_tips
from bot.scheduling.render import render
from bot.scheduling.sender import DeliveryError, SlackSender
from bot.services import pairing
from bot.store import outbox, repo
from bot.store.db import Database
from bot.store.models import Meeting
from bot.store.outbox import ClaimedMessage

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
CLAIM_BATCH = 100
TZ_REFRESH_PER_PASS = 50


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def backoff(attempts: int, retry_after: float | None) -> timedelta:
    if retry_after:
        return timedelta(seconds=max(1.0, retry_after))
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


@dataclass
class PassReport:
    planned: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        parts = [f"planned {self.planned}"] + [
            f"{name} {count}" for name, count in sorted(self.outcomes.items())
        ]
        return "tick: " + ", ".join(parts)

    @property
    def sent(self) -> int:
        return self.outcomes["sent"]


class Engine:
    """Plans and delivers; holds no Slack client of its own beyond the sender it is given."""

    def __init__(
        self,
        db: Database,
        sender: SlackSender,
        content: Content,
        *,
        worker: str | None = None,
        concurrency: int = 8,
    ) -> None:
        self.db = db
        self.sender = sender
        self.content = content
        self.worker = worker or worker_name()
        self.concurrency = concurrency
        # Set on shutdown: the pass stops claiming; what it holds is finished first.
        self.stopping = threading.Event()

    def run_pass(self, now: datetime) -> PassReport:
        report = PassReport()
        while True:
            people, planned = self.db.call(plan_tips, content=self.content, now=now)
            report.planned += planned
            if people < PLAN_BATCH:
                break
        self._refresh_time_zones(now)
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="deliver") as pool:
            while True:
                batch = self.db.call(
                    outbox.claim_due, now=now, worker=self.worker, limit=CLAIM_BATCH
                )
                if not batch:
                    break
                # One recipient's messages go in due order on one thread, so a
                # prep never lands after the poll that follows it.
                by_recipient: dict[tuple[str, str], list[ClaimedMessage]] = {}
                for message in batch:
                    by_recipient.setdefault((message.team_id, message.recipient), []).append(
                        message
                    )
                for outcomes in pool.map(
                    lambda group: [self._deliver(m, now) for m in group], by_recipient.values()
                ):
                    report.outcomes.update(outcomes)
        return report

    def _deliver(self, message: ClaimedMessage, now: datetime) -> str:
        try:
            if not self._still_wanted(message, now):
                self.db.call(
                    outbox.mark_skipped,
                    message_id=message.id,
                    worker=self.worker,
                    reason="no longer needed",
                )
                return "skipped"
            outgoing = render(self.content, message)
            posted = self.sender.post(
                message.team_id,
                message.recipient,
                text=outgoing.text,
                blocks=[b.to_dict() for b in outgoing.blocks],
            )
        except DeliveryError as error:
            return self._settle_failure(message, error, now)
        except Exception as error:  # noqa: BLE001 - one bad row never stops the pass
            logger.exception("delivering %s failed", message.key)
            return self._settle_failure(message, DeliveryError("retry", type(error).__name__), now)
        if message.kind == "match_invite" and message.pair_id is not None:
            # Answering the invitation updates this very message, as with /mentor start.
            self.db.call(
                pairing.record_invitation_message,
                team_id=message.team_id,
                pair_id=message.pair_id,
                channel_id=posted.channel,
                ts=posted.ts,
            )
        self.db.call_core(
            outbox.mark_sent,
            message_id=message.id,
            worker=self.worker,
            now=now,
            channel_id=posted.channel,
            ts=posted.ts,
        )
        return "sent"

    def _still_wanted(self, message: ClaimedMessage, now: datetime) -> bool:
        """Send-time guard for messages whose reason may have gone since planning."""
        if message.kind == "tip":
            # Tips are cancelled in the same transaction as tips off or an ended pair;
            # only their age is left to check, and that needs no query.
            return now - message.due_at <= STALE_AFTER
        if message.kind == "schedule_ask" or message.meeting_id is not None:
            return self.db.call(_guard_in_database, message=message, now=now)
        return True

    def _settle_failure(self, message: ClaimedMessage, error: DeliveryError, now: datetime) -> str:
        logger.warning(
            "%s: %s (%s, attempt %d)", message.key, error.error, error.outcome, message.attempts
        )
        if error.outcome == "person":
            self.db.call(
                _pause_person, message=message, reason=error.error, now=now, worker=self.worker
            )
            return "paused"
        if error.outcome == "permanent" or message.attempts >= MAX_ATTEMPTS:
            self.db.call(
                outbox.mark_failed, message_id=message.id, worker=self.worker, error=error.error
            )
            return "failed"
        self.db.call(
            outbox.mark_retry,
            message_id=message.id,
            worker=self.worker,
            due_at=now + backoff(message.attempts, error.retry_after),
            error=error.error,
        )
        return "retry"

    def _refresh_time_zones(self, now: datetime) -> None:
        stale = self.db.call(_stale_time_zones, now=now)
        for team_id, user_id in stale:
            try:
                tz = self.sender.user_tz(team_id, user_id)
            except DeliveryError as error:
                logger.info("time zone of %s not refreshed: %s", user_id, error.error)
                continue
            self.db.call(
                lambda s, t=team_id, u=user_id, z=tz: repo.ensure_person(
                    s, team_id=t, user_id=u, tz=z, checked_at=now
                )
            )


def _guard_in_database(session: Session, *, message: ClaimedMessage, now: datetime) -> bool:
    if message.kind == "schedule_ask" and message.pair_id is not None:
        return not repo.upcoming_meetings(
            session, team_id=message.team_id, pair_id=message.pair_id, now=now
        )
    if message.meeting_id is not None and message.kind != "feedback":
        meeting = session.get(Meeting, message.meeting_id)
        return meeting is not None and meeting.status == "scheduled"
    return True


def _pause_person(
    session: Session, *, message: ClaimedMessage, reason: str, now: datetime, worker: str
) -> None:
    outbox.pause_message(session, message_id=message.id, worker=worker, reason=reason)
    outbox.pause_recipient(
        session, team_id=message.team_id, recipient=message.recipient, reason=reason
    )
    person = repo.get_person(session, team_id=message.team_id, user_id=message.recipient)
    if person is not None:
        person.blocked_at = now
        person.blocked_reason = reason[:64]
        person.tips_planned_until = None


def _stale_time_zones(session: Session, *, now: datetime) -> list[tuple[str, str]]:
    from bot.store.models import Person

    rows = session.execute(
        select(Person.team_id, Person.user_id)
        .where(
            Person.tips_planned_until.is_not(None),
            Person.tz_checked_at < now - repo.TZ_FRESH_FOR,
        )
        .limit(TZ_REFRESH_PER_PASS)
    )
    return [(team, user) for team, user in rows]
