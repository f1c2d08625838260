"""One scheduler pass: plan what became plannable, then deliver everything due, once.

Delivery is at-least-once with a window of one Slack call: a row is claimed
(status ``sending``, leased to this worker), posted, and marked ``sent`` in its
own transaction right after Slack answers. Only a crash between Slack's answer
and that commit (milliseconds) can send a message twice. The claims of a worker that
died are released by the next pass that looks (``bot.store.workers``); a worker told
to stop hands back what it claimed and had not started.

Slack's rate limits are kept inside the pass (``bot.scheduling.pacing``): calls are
paced per workspace, and a 429 is waited out, so the pass ends only when nothing due
at its ``now`` is left unsent, or when it is told to stop (SIGTERM, ``tick --budget``).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Collection
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from bot import outgoing
from bot.content import Content
from bot.domain.tips import STALE_AFTER
from bot.outgoing import RETRY_UNTIL_DONE
from bot.scheduling import tipchoice
from bot.scheduling.delivery import Delivery
from bot.scheduling.pacing import Gate, Interrupted, Pacer
from bot.scheduling.planner import BATCH as PLAN_BATCH
from bot.scheduling.planner import plan_tips
from bot.scheduling.sender import DeliveryError, SlackSender
from bot.services import care, pairing, privacy
from bot.services.privacy import SLACK_DELETE
from bot.store import installations, meetings, outbox, repo, workers, workspaces
from bot.store.db import Database
from bot.store.outbox import ClaimedMessage
from bot.views.pairing import group_dm_waiting

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
# Slack's answers to chat.delete / files.delete that mean there is nothing left to delete.
ALREADY_GONE = frozenset(
    {
        "message_not_found",
        "cant_delete_message",
        "channel_not_found",
        "is_archived",
        "file_not_found",
        "file_deleted",
        "cant_delete_file",
    }
)
# Redelivered events are recognised for this long (Slack retries within minutes).
EVENT_MEMORY = timedelta(days=1)
CLAIM_BATCH = 100
# A delivery round that runs this long looks for dead workers' claims again.
RELEASE_EVERY = 30.0
TZ_REFRESH_PER_PASS = 50
DEFAULT_RETENTION = timedelta(days=30)
# The care pass (nudges, 30-day check-ins) looks at every active pair: once in this long
# per process is plenty for rules counted in days. Its rows are planned once whatever
# process plans them first (their keys), so a restart or a second process only repeats
# the looking.
CARE_EVERY = timedelta(minutes=15)


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
    # Rows of dead workers this pass released and took over.
    recovered: int = 0
    # Why the pass stopped early ("stopped", "budget of 600 s ran out"), and how many
    # rows due at its ``now`` it left unsent then.
    stopped: str | None = None
    left: int = 0

    def summary(self) -> str:
        parts = [f"planned {self.planned}"] + [
            f"{name} {count}" for name, count in sorted(self.outcomes.items())
        ]
        if self.recovered:
            parts.append(f"recovered {self.recovered}")
        if self.stopped is not None:
            parts.append(f"left {self.left} ({self.stopped})")
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
        retention: timedelta = DEFAULT_RETENTION,
        on_outcomes: Callable[[list[str]], None] | None = None,
        pacer: Pacer | None = None,
        coordinators: Collection[str] = (),
    ) -> None:
        self.db = db
        self.sender = sender
        self.content = content
        # Without a given name, this process's worker id (and on PostgreSQL its
        # advisory lock), so other passes can tell when it has died.
        self.presence = workers.Presence(db.engine) if worker is None else None
        self.worker = worker or self.presence.id  # type: ignore[union-attr]
        self.concurrency = concurrency
        # How long an uninstalled workspace's data is kept (MENTOR_UNINSTALL_RETENTION_DAYS).
        self.retention = retention
        # Told each delivered group's outcomes as they are settled (the /metrics counters).
        self.on_outcomes = on_outcomes
        # Set on shutdown: the pass stops claiming, hands back what it has not started,
        # and finishes the Slack calls in flight.
        self.stopping = threading.Event()
        self.stop_reason = "stopped"
        # Set when rows due now were committed (the sender loop's wake): a delivery in
        # progress claims them without waiting for its lanes to finish. ``rows_arrived``
        # also wakes the round's wait at once, so a row committed while others are in
        # flight does not wait for a poll.
        self.arrived = threading.Event()
        self._round_lanes: _Lanes | None = None
        self._report_lock = threading.Lock()
        # Paces the sender's calls (when a pacer is given) and waits out 429s in the pass.
        self.sender.gate = Gate(pacer, self.stopping)
        self.delivery = Delivery(db, sender, content, worker=self.worker, coordinators=coordinators)
        # Workspaces whose token Slack refused during this pass: the rest of what was
        # claimed for them is held without asking Slack again.
        self._dead_teams: set[str] = set()
        # Workers known to be running: their claims are taken over only long after their
        # lease (``outbox.STUCK_AFTER``), as they may be sending them.
        self._alive: list[str] = [self.worker]
        # When this process last ran the care pass (``_plan_care``).
        self._care_at: datetime | None = None

    def run_pass(self, now: datetime, *, deliver: bool = True) -> PassReport:
        """Plan what became plannable, then (``deliver``) send everything due at ``now``."""
        report = PassReport()
        self._settle_workspaces(now, report)
        self.db.call(repo.forget_events, before=now - EVENT_MEMORY)
        # Time zones first: someone whose zone was never read (invited in a burst) gets
        # their first tip planned at their own morning, not at UTC's.
        self._refresh_time_zones(now)
        while not self.stopping.is_set():
            people, planned = self.db.call(plan_tips, content=self.content, now=now)
            report.planned += planned
            if people < PLAN_BATCH:
                break
        self._plan_care(now, report)
        if deliver:
            self.deliver_due(now, report)
        return report

    def _plan_care(self, now: datetime, report: PassReport) -> None:
        """Care before a pair fails (``bot.services.care``): the kind nudges and the
        30-day check-ins that are due, each workspace in its own transaction. One
        workspace's failure is logged and leaves the others (and delivery) to go on.
        First, invitations unanswered for too long expire (``pairing.expire_invitation``)."""
        if self._care_at is not None and self._care_at <= now < self._care_at + CARE_EVERY:
            return
        self._care_at = now
        try:
            lapsed = self.db.read(pairing.invitations_to_expire, now=now)
        except Exception:  # noqa: BLE001 - retried by the next care pass
            logger.exception("looking for invitations to expire failed")
            lapsed = []
        for team_id, pair_id in lapsed:  # each alone: one that fails holds up no other
            try:
                expired = self.db.call(
                    pairing.expire_invitation, team_id=team_id, pair_id=pair_id, now=now
                )
                report.planned += 2 if expired else 0  # its DM closed, its inviter told
            except Exception:  # noqa: BLE001 - retried by the next care pass
                logger.exception("expiring invitation %d failed", pair_id)
        settings = self.content.settings
        for team_id in self.db.read(care.care_teams):
            if self.stopping.is_set():
                return
            try:
                report.planned += self.db.call(
                    care.plan_care,
                    team_id=team_id,
                    now=now,
                    tip_minute=settings.tip_time.hour * 60 + settings.tip_time.minute,
                    working_days=settings.tip_days,
                )
            except Exception:  # noqa: BLE001 - retried by the next pass
                logger.exception("care pass of workspace %s failed", team_id)

    def deliver_due(
        self,
        now: datetime,
        report: PassReport | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> PassReport:
        """Claim, send and settle everything due at ``now`` until none is left (or the
        engine is told to stop), after taking over the claims of dead workers.

        A pipeline, not batches: whenever fewer rows wait for a thread than there are
        threads, more are claimed, so a row committed while others are in flight
        leaves as soon as a thread is free, not after the slowest of a batch. With a
        ``clock`` (the sender loop), each claim looks at the time it is made, so rows
        that requests commit meanwhile are due; without one (``tick --now``), ``now``.
        """
        report = report if report is not None else PassReport()
        # Reset here, not only in run_pass: the sender loop calls this directly, and a
        # workspace paused earlier and resumed since must be sent to again.
        self._dead_teams = set()
        if self.stopping.is_set():
            return self._stopped(now, report)
        # Two reads (no write lock) when nothing is to be done, so the sender loop's idle
        # polls stay cheap: dead workers, then the loop's first look for due rows.
        self._release_dead(report)
        lanes = self._round_lanes = _Lanes(threads=self.concurrency, most=CLAIM_BATCH)
        self.arrived.clear()
        released_at = time.monotonic()
        at_now: Callable[[], datetime] = clock if clock is not None else (lambda: now)
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="deliver") as pool:
            while not self.stopping.is_set():
                if self.presence is not None and self.presence.lost.is_set():
                    break  # our lock is gone: others may take our rows, so claim none
                if lanes.full():
                    lanes.wait_for_progress(self.arrived, self.stopping)
                    continue
                if time.monotonic() - released_at > RELEASE_EVERY:
                    # A long round (the sender loop's, under load) still takes over
                    # the claims of workers that died meanwhile.
                    released_at = time.monotonic()
                    self._release_dead(report)
                at = at_now()
                # Whether any lane is still running, asked BEFORE the look for due rows:
                # a lane closes only after its last settle has committed, so when none
                # was running before the look, the look saw every row they planned.
                # (Asked after it, a lane could commit a row and close in between, and
                # the round would end with that row due and unsent.)
                lanes_running = lanes.busy()
                # A read first (no writer lock): most looks after a row finished find
                # nothing new, and a claim is a write transaction.
                batch = []
                if self.db.read(outbox.any_due, now=at, alive=self._alive):
                    # Tips get their practice here, chosen in the claim's own transaction.
                    batch = self.db.call(
                        tipchoice.claim_due,
                        content=self.content,
                        now=at,
                        worker=self.worker,
                        limit=CLAIM_BATCH,
                        alive=self._alive,
                    )
                if not batch:
                    if not lanes_running:
                        break
                    # A row in flight may plan more (an invitation its confirmation),
                    # and a request may commit some: look again when either happens.
                    lanes.wait_for_progress(self.arrived, self.stopping)
                    continue
                # The claim skips paused workspaces: one in it was resumed meanwhile.
                self._dead_teams -= {message.team_id for message in batch}
                for recipient, messages in _by_recipient(batch).items():
                    if lanes.add(recipient, messages):
                        future = pool.submit(self._deliver_lane, lanes, recipient, at_now, report)
                        future.add_done_callback(_log_failure)
            lanes.wait_idle()
        self._round_lanes = None
        if self.stopping.is_set():
            return self._stopped(now, report)
        return report

    def _release_dead(self, report: PassReport) -> None:
        """Take over the claims of workers that died: a read, and a write only if any."""
        dead, self._alive = self.db.read(workers.claimants, me=self.worker)
        if dead:
            report.recovered += self.db.call(workers.release, dead=dead)

    def _deliver_lane(
        self,
        lanes: _Lanes,
        recipient: tuple[str, str],
        at_now: Callable[[], datetime],
        report: PassReport,
    ) -> None:
        """One recipient's claimed messages, in order, on this thread, including those
        claimed for them while it runs, each at the time it starts. Once the engine is
        stopping (or its worker lock is lost), the ones not started go back to pending
        (a Slack call already made is finished)."""
        gate = self.sender.gate
        assert gate is not None
        message = None
        try:
            while (message := lanes.next(recipient)) is not None:
                if self.stopping.is_set() or (
                    self.presence is not None and self.presence.lost.is_set()
                ):
                    break
                if not self._lease_held(message, at_now()):
                    # Another pass took it over meanwhile: it is theirs to send.
                    self._record(report, ["lost"])
                    continue
                try:
                    gate.begin_row()
                    outcome = self._deliver(message, at_now())
                except Interrupted:  # stopping, before this row's first Slack call
                    break
                self._record(report, [outcome])
            else:
                return
        except BaseException:  # noqa: BLE001 - a lane that failed must not strand its rows
            logger.exception("a delivery lane failed")
            if message is not None and gate.row_started():
                # Slack has it: handing it back would send it again. It stays claimed
                # (``outbox.STUCK_AFTER`` past its lease, this worker running).
                message = None
        # What was claimed for this recipient and not sent goes back, and only then does
        # the lane close: a round that sees no lane running finds these rows pending.
        rest = [message] if message is not None else []
        try:
            while True:
                rest += lanes.take(recipient)
                if rest:
                    ids = [m.id for m in rest]
                    self.db.call(outbox.hand_back, message_ids=ids, worker=self.worker)
                    self._record(report, ["handed_back"] * len(rest))
                    rest = []
                if lanes.close_if_empty(recipient):
                    break
        except BaseException:
            # Handing back failed: the rows stay claimed by this worker until released,
            # as a crashed worker's are; the round must not wait for this lane.
            lanes.close(recipient)
            raise

    def _lease_held(self, message: ClaimedMessage, now: datetime) -> bool:
        """A row reached with more than half its lease spent has it renewed first, so
        that no other pass takes it over while this one sends it (one write, only for
        rows that waited: Slack's pace, 429s); False if it was taken over already."""
        if message.lease_until is None or now < message.lease_until - outbox.LEASE / 2:
            return True
        return bool(
            self.db.call(outbox.renew_lease, message_id=message.id, worker=self.worker, now=now)
        )

    def _record(self, report: PassReport, outcomes: list[str]) -> None:
        with self._report_lock:
            report.outcomes.update(outcomes)
        if self.on_outcomes is not None:
            self.on_outcomes(outcomes)

    def _stopped(self, now: datetime, report: PassReport) -> PassReport:
        report.stopped = self.stop_reason
        report.left = self.db.call(outbox.count_due, now=now, alive=self._alive)
        return report

    def rows_arrived(self) -> None:
        """Rows due now were committed: a round in progress looks for them at once."""
        self.arrived.set()
        self._poke_round()

    def stop(self, reason: str = "stopped") -> None:
        """Stop claiming at once; what was claimed and not started is handed back."""
        self.stop_reason = reason
        self.stopping.set()
        self._poke_round()

    def _poke_round(self) -> None:
        lanes = self._round_lanes
        if lanes is not None:
            lanes.poke()

    def close(self) -> None:
        """Give up this process's worker identity (its lock, on PostgreSQL)."""
        if self.presence is not None:
            self.presence.close()

    def _settle_workspaces(self, now: datetime, report: PassReport) -> None:
        """Each pass reads tokens afresh; resumes paused workspaces that have a new token
        (a reinstall, an operator's new SLACK_BOT_TOKEN); deletes those uninstalled
        longer than the retention period."""
        self.sender.forget()
        purged = self.db.call(workspaces.purge_expired, now=now, retention=self.retention)
        for team_id in purged:
            logger.info(
                "workspace %s: data deleted, uninstalled more than %s ago", team_id, self.retention
            )
        report.outcomes.update({"purged": len(purged)} if purged else {})
        # Rotating tokens are refreshed here, ahead of expiry, so that a Slack request
        # never has to refresh one before its ack (StoredInstallationAuthorize).
        # Token expiry is Slack's wall clock, not the pass's (a `tick --now` in the past).
        wall = max(now, datetime.now(UTC))
        for team_id in self.db.call(
            installations.expiring, before=wall + installations.REFRESH_AHEAD
        ):
            try:
                self.sender.current_token(team_id)  # refreshes it when it rotates
            except Exception:  # noqa: BLE001 - retried next pass; delivery reports it
                logger.exception("workspace %s: token refresh failed", team_id)
        for team_id, status, dead_token in self.db.call(workspaces.not_active):
            try:
                token = self.sender.current_token(team_id)
            except Exception:  # noqa: BLE001 - a failed lookup or refresh: still paused
                logger.exception("workspace %s: token lookup failed", team_id)
                continue
            if token and workspaces.token_fingerprint(token) != dead_token:
                self.db.call(workspaces.resume, team_id=team_id, now=now)
                logger.info("workspace %s: %s, resumed with a new token", team_id, status)

    def _deliver(self, message: ClaimedMessage, now: datetime) -> str:
        if message.team_id in self._dead_teams:
            self.db.call(
                outbox.hold_message,
                message_id=message.id,
                worker=self.worker,
                reason="workspace paused",
            )
            return "held"
        if message.kind == SLACK_DELETE:
            return self._delete_in_slack(message, now)
        try:
            if not self._still_wanted(message, now):
                self.db.call(
                    outbox.mark_skipped,
                    message_id=message.id,
                    worker=self.worker,
                    reason="no longer needed",
                    payload=outbox.kept_after_delivery(message.kind, message.payload),
                )
                return "skipped"
            # The Slack calls of the row's kind (bot.scheduling.delivery): most post one
            # rendered message; some open a conversation, check a person, update in place.
            done = self.delivery.send(message, now)
        except DeliveryError as error:
            return self._settle_failure(message, error, now)
        except Exception as error:  # noqa: BLE001 - one bad row never stops the pass
            # The row's kind and id, not its key: a key may name the person
            # (exit_offer:<pair>:<user> says who answered a private check-in).
            logger.exception("delivering %s #%d failed", message.kind, message.id)
            return self._settle_failure(message, DeliveryError("retry", type(error).__name__), now)
        if done.settle is not None:
            # What Slack answered, recorded with the row's own status in one transaction.
            try:
                self.db.call(done.settle)
            except Exception as error:  # noqa: BLE001 - the row must not stay claimed
                return self._record_failed(message, done.outcome, error, now)
            return done.outcome
        posted = done.posted
        assert posted is not None
        # A tip's practice is recorded as received in the same transaction.
        try:
            if not self.db.call_core(
                tipchoice.mark_sent,
                message=message,
                worker=self.worker,
                now=now,
                channel_id=posted.channel,
                ts=posted.ts,
                payload=outbox.kept_after_delivery(message.kind, message.payload),
            ):
                self.db.call(
                    privacy.forgotten_in_flight,
                    team_id=message.team_id,
                    message_id=message.id,
                    worker=self.worker,
                    channel=posted.channel,
                    ts=posted.ts,
                    now=now,
                )
        except Exception as error:  # noqa: BLE001 - the row must not stay claimed
            return self._record_failed(message, "sent", error, now)
        return "sent"

    def _record_failed(
        self, message: ClaimedMessage, outcome: str, error: Exception, now: datetime
    ) -> str:
        """Slack answered, and recording it failed (a bug, the database refusing the
        commit). A sent message would go again at every retry: it is failed instead,
        saying so (`mentor-bot outbox` shows it; a retry re-sends), unless its kind
        must happen whatever it takes (a kickoff: a second welcome beats a pair with
        no group DM). Anything else that failed to record is retried as usual."""
        logger.exception("recording %s #%d failed", message.kind, message.id, exc_info=error)
        if outcome != "sent" or message.kind in RETRY_UNTIL_DONE:
            return self._settle_failure(message, DeliveryError("retry", type(error).__name__), now)
        self.db.call(
            outbox.mark_failed,
            message_id=message.id,
            worker=self.worker,
            error=f"sent, but recording it failed ({type(error).__name__})",
        )
        return "failed"

    def _delete_in_slack(self, message: ClaimedMessage, now: datetime) -> str:
        """One of the bot's messages (or files) that ``forget-me`` deletes. The row names
        a channel and a message of the forgotten person, so it goes as soon as Slack has
        done it (or says there is nothing to delete), and after the last attempt."""
        try:
            self.sender.delete(message.team_id, message.payload)
        except DeliveryError as error:
            if error.error in ALREADY_GONE or error.outcome in ("permanent", "person"):
                self.db.call(outbox.discard, message_id=message.id, worker=self.worker)
                return "deleted"
            if error.outcome == "workspace" or message.attempts < MAX_ATTEMPTS:
                return self._settle_failure(message, error, now)
            logger.warning(
                "a Slack deletion for forget-me was given up after %d attempts: %s",
                message.attempts,
                error.error,
            )
            self.db.call(outbox.discard, message_id=message.id, worker=self.worker)
            return "failed"
        except Exception as error:  # noqa: BLE001 - one bad row never stops the pass
            logger.exception("a Slack deletion for forget-me failed")
            return self._settle_failure(message, DeliveryError("retry", type(error).__name__), now)
        self.db.call(outbox.discard, message_id=message.id, worker=self.worker)
        return "deleted"

    def _still_wanted(self, message: ClaimedMessage, now: datetime) -> bool:
        """Send-time guard for messages whose reason may have gone since planning."""
        if message.kind == "tip":
            # Tips are cancelled in the same transaction as tips off or an ended pair;
            # only their age is left to check, and that needs no query. The claim found
            # no practice (tip_id None) when the person has no active pair any more.
            return now - message.due_at <= STALE_AFTER and message.payload.get("tip_id") is not None
        if message.kind == "schedule_ask" or message.meeting_id is not None:
            return self.db.view(
                _guard_in_database,
                message=message,
                now=now,
                ask_below=self.content.settings.reschedule_when_fewer_than,
            )
        return True

    def _settle_failure(self, message: ClaimedMessage, error: DeliveryError, now: datetime) -> str:
        logger.warning(
            "%s #%d: %s (%s, attempt %d)",
            message.kind,
            message.id,
            error.error,
            error.outcome,
            message.attempts,
        )
        if error.outcome == "person" and outgoing.group_pair_id(message.recipient) is not None:
            if error.error in GROUP_DM_LOST:
                # Because of the group DM itself, not of a person: it is opened again.
                return self.db.call(
                    _group_dm_lost, message=message, reason=error.error, now=now, worker=self.worker
                )
            # Anything else about a group DM (a workspace's posting restrictions) is not
            # one person's to resume by talking to us: failed, where an operator sees it.
            self.db.call(
                outbox.mark_failed, message_id=message.id, worker=self.worker, error=error.error
            )
            return "failed"
        if error.outcome == "person":
            self.db.call(
                _pause_person, message=message, reason=error.error, now=now, worker=self.worker
            )
            return "paused"
        if error.outcome == "workspace":
            # One dead bot token stops the whole workspace, not each person in turn.
            self._dead_teams.add(message.team_id)
            self.db.call(_hold_workspace, message=message, error=error, now=now, worker=self.worker)
            return "held"
        # A 429 says Slack is busy, not that the message is wrong: however long the
        # storm, it is no attempt, and the row waits for its turn (it is never failed).
        rate_limited = error.error == "ratelimited"
        if message.kind in RETRY_UNTIL_DONE:
            if error.outcome == "permanent":
                # The app's own setup (a scope missing from the install, content Slack
                # refuses): the pair waits for its group DM, and says why on
                # `/mentor status`, until an operator fixes it; the row is tried again
                # at most hourly, and `mentor-bot outbox retry` tries it at once.
                logger.error(
                    "%s #%d refused by Slack (%s): tried again until it succeeds",
                    message.kind,
                    message.id,
                    error.error,
                )
                p = message.payload
                self.db.call(
                    pairing.kickoff_waits,
                    team_id=message.team_id,
                    pair_id=p["pair_id"],
                    tell={
                        p["mentor_id"]: group_dm_waiting(error.error, p["mentee_id"]),
                        p["mentee_id"]: group_dm_waiting(error.error, p["mentor_id"]),
                    },
                    now=now,
                )
        elif error.outcome == "permanent" or (
            message.attempts >= MAX_ATTEMPTS and not rate_limited
        ):
            if message.kind in outgoing.GONE_WHEN_GIVEN_UP:
                # Nothing an operator would retry, and a row that may name someone who
                # used forget-me (their own Home, forget-me's answer): it goes.
                self.db.call(outbox.discard, message_id=message.id, worker=self.worker)
                return "failed"
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
            counted=not rate_limited,
        )
        return "retry"

    def _refresh_time_zones(self, now: datetime) -> None:
        stale = self.db.call(_stale_time_zones, now=now)
        for team_id, user_id in stale:
            try:
                self.sender.gate.begin_row()  # type: ignore[union-attr]
                tz = self.sender.user_tz(team_id, user_id)
            except Interrupted:
                return  # stopping: the next pass looks again
            except DeliveryError as error:
                # Not whose: a log line outlives the person's forget-me.
                logger.info("a time zone not refreshed: %s", error.error)
                if error.outcome == "workspace":
                    self.db.call(
                        workspaces.pause,
                        team_id=team_id,
                        reason=error.error,
                        now=now,
                        token=error.token,
                    )
                elif error.outcome != "retry":
                    # Asked, and Slack will not say: not asked again every pass, ahead
                    # of everyone else (never-read zones go first).
                    self.db.call(repo.mark_tz_checked, team_id=team_id, user_id=user_id, now=now)
                continue
            if tz is None:
                self.db.call(repo.mark_tz_checked, team_id=team_id, user_id=user_id, now=now)
                continue
            self.db.call(
                lambda s, t=team_id, u=user_id, z=tz: repo.ensure_person(
                    s, team_id=t, user_id=u, tz=z, checked_at=now
                )
            )


def _guard_in_database(
    session: Session, *, message: ClaimedMessage, now: datetime, ask_below: int
) -> bool:
    if message.kind == "schedule_ask" and message.pair_id is not None:
        # Still fewer meetings ahead than the content's threshold, in a pair that goes on.
        status = repo.pair_status(session, team_id=message.team_id, pair_id=message.pair_id)
        if status != "active":
            return False
        upcoming = repo.upcoming_meetings(
            session, team_id=message.team_id, pair_id=message.pair_id, now=now
        )
        return len(upcoming) < ask_below
    if message.meeting_id is not None and message.kind != "feedback":
        meeting = meetings.get_meeting(
            session, team_id=message.team_id, meeting_id=message.meeting_id
        )
        if meeting is None or meeting.status != "scheduled":
            return False
        # Moved after this row was claimed (the move cancels only rows not yet taken):
        # the prompts planned for the new time go instead.
        planned_for = message.payload.get("starts_at")
        return planned_for is None or datetime.fromisoformat(planned_for) == meeting.starts_at
    return True


def _hold_workspace(
    session: Session, *, message: ClaimedMessage, error: DeliveryError, now: datetime, worker: str
) -> None:
    outbox.hold_message(session, message_id=message.id, worker=worker, reason=error.error)
    if workspaces.pause(
        session, team_id=message.team_id, reason=error.error, now=now, token=error.token
    ):
        logger.warning(
            "workspace %s paused: Slack refused its token (%s)", message.team_id, error.error
        )


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


# Slack's answers to a message in a pair's group DM that mean the conversation itself is
# gone or closed to the bot (chat.postMessage's errors in slack-api-ref).
GROUP_DM_LOST = frozenset({"channel_not_found", "is_archived", "not_in_channel"})


def _group_dm_lost(
    session: Session, *, message: ClaimedMessage, reason: str, now: datetime, worker: str
) -> str:
    """A message Slack refused in a pair's group DM: it waits for the group DM to be
    opened again (no attempt counted), or is dropped with a pair that has ended."""
    pair_id = outgoing.group_pair_id(message.recipient)
    assert pair_id is not None
    if not pairing.group_dm_lost(session, team_id=message.team_id, pair_id=pair_id, now=now):
        outbox.mark_skipped(session, message_id=message.id, worker=worker, reason=reason)
        return "skipped"
    outbox.defer(
        session,
        message_id=message.id,
        worker=worker,
        due_at=now,
        reason=outbox.WAITING_FOR_GROUP_DM,
    )
    return "waiting"


def _stale_time_zones(session: Session, *, now: datetime) -> list[tuple[str, str]]:
    return repo.stale_time_zones(session, now=now, limit=TZ_REFRESH_PER_PASS)


def _log_failure(future: Future[None]) -> None:
    error = future.exception()
    if error is not None:
        logger.error("a delivery lane could not hand its rows back", exc_info=error)


def _by_recipient(batch: list[ClaimedMessage]) -> dict[tuple[str, str], list[ClaimedMessage]]:
    by_recipient: dict[tuple[str, str], list[ClaimedMessage]] = {}
    for message in batch:
        by_recipient.setdefault((message.team_id, message.recipient), []).append(message)
    return by_recipient


class _Lanes:
    """The claimed rows of one ``deliver_due``, one lane per recipient: a recipient's
    messages go in due order on one thread, so a prep never lands after the poll that
    follows it, even when the second is claimed while the first is in flight."""

    def __init__(self, *, threads: int, most: int) -> None:
        self._state = threading.Condition()
        self._lanes: dict[tuple[str, str], deque[ClaimedMessage]] = {}
        self._waiting = 0  # claimed, not yet started
        self._progress = False
        self._threads = threads
        self._most = most

    def add(self, recipient: tuple[str, str], messages: list[ClaimedMessage]) -> bool:
        """Queue ``messages``; True if the recipient's lane is new and needs a thread."""
        with self._state:
            self._waiting += len(messages)
            lane = self._lanes.get(recipient)
            if lane is not None:
                lane.extend(messages)
                return False
            self._lanes[recipient] = deque(messages)
            return True

    def next(self, recipient: tuple[str, str]) -> ClaimedMessage | None:
        """The lane's next message; None when it is empty, and the lane is closed in the
        same step, so a message added after that starts a new lane."""
        with self._state:
            lane = self._lanes[recipient]
            if not lane:
                del self._lanes[recipient]
                self._wake()
                return None
            self._waiting -= 1
            if not self._full():
                self._wake()  # a row finished, and there is room to claim more
            return lane.popleft()

    def take(self, recipient: tuple[str, str]) -> list[ClaimedMessage]:
        """The lane's messages not started, taken out; the lane stays open."""
        with self._state:
            lane = self._lanes.get(recipient)
            if not lane:
                return []
            taken = list(lane)
            lane.clear()
            self._waiting -= len(taken)
            return taken

    def close_if_empty(self, recipient: tuple[str, str]) -> bool:
        """Close the lane if nothing was added to it meanwhile; False if something was."""
        with self._state:
            if self._lanes.get(recipient):
                return False
            self._lanes.pop(recipient, None)
            self._wake()
            return True

    def close(self, recipient: tuple[str, str]) -> list[ClaimedMessage]:
        """Close the lane early (stopping, or its thread failed): its messages not
        started, to hand back."""
        with self._state:
            lane = self._lanes.pop(recipient, deque())
            self._waiting -= len(lane)
            self._wake()
            return list(lane)

    def full(self) -> bool:
        """Claiming more now would only make rows wait (holding them from other workers,
        and a lease runs out): every thread has a lane and more rows wait than there
        are threads, or ``most`` rows wait in all (a few recipients with many rows)."""
        with self._state:
            return self._full()

    def _full(self) -> bool:
        busy = len(self._lanes) >= self._threads and self._waiting >= self._threads
        return busy or self._waiting >= self._most

    def _wake(self) -> None:
        self._progress = True
        self._state.notify_all()

    def poke(self) -> None:
        """Wake ``wait_for_progress`` now: its caller set ``arrived`` or ``stopping``
        first, and it checks both under this lock, so the wake cannot be missed."""
        with self._state:
            self._state.notify_all()

    def busy(self) -> bool:
        with self._state:
            return bool(self._lanes)

    def wait_for_progress(
        self, arrived: threading.Event, stopping: threading.Event, timeout: float = 0.25
    ) -> None:
        """Until a lane takes a row or closes, or ``arrived`` says new rows were
        committed (``poke``), or the engine is stopping; a second at most. ``timeout``
        is only a safety net: every one of those wakes this wait at once."""
        with self._state:
            deadline = time.monotonic() + 1.0
            while (
                not self._progress
                and not arrived.is_set()
                and not stopping.is_set()
                and time.monotonic() < deadline
            ):
                self._state.wait(timeout)
            self._progress = False
        arrived.clear()

    def wait_idle(self) -> None:
        with self._state:
            while self._lanes:
                self._state.wait(0.1)
