"""``mentor-bot demo``: a whole mentoring program, locally, shown as Slack would show it.

The real app (same factory, same web stack, same scheduler pass as ``serve``)
runs against the Slack emulator on loopback. A small cast acts through signed
requests, time moves with the production scheduler pass, and everything Slack
would show each person is written to the terminal and to ``demo.html``.
"""

from __future__ import annotations

import logging
import random
import re
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from bot.config import load_settings
from bot.content import Content
from bot.ids import GOAL_BLOCKS, Action, Block
from bot.local import LocalApp
from bot.preview.mrkdwn import format_date_token
from bot.store.db import Database
from bot.store.migrate import upgrade
from slackemu import Input, RecordedCall, SlackEmulator

SIGNING_SECRET = "demo-signing-secret"
# A Monday morning in Europe; the cast lives far apart.
PROGRAM_START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
STEP = timedelta(minutes=30)

FOCUS_IDEAS = [
    ("Presenting to senior leaders", "How do I open when the room is sceptical?"),
    ("Growing into a tech lead role", "What did you stop doing when you became a lead?"),
    ("Giving difficult feedback", "How do you prepare for a hard conversation?"),
    ("Planning my next career step", "What would you look for in my next project?"),
]
HELPED = [
    "Hearing a real story of a setback",
    "Concrete examples from your last project",
    "The questions you asked back",
]
CHANGE = ["More time on my questions", "Start on time", "Agree next steps at the end"]
GOALS = [
    ("Run a design review on my own", "I want the team to trust my calls", 6),
    ("Give a 10-minute talk at the all-hands", "Speaking up is my growth edge", 10),
]
AGREEMENT = (
    "A DM in Slack between meetings; we answer within a day",
    "What we say about people and pay stays between us",
)
PARKED_QUESTION = "How did you decide when to stop doing hands-on work?"


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str
    real_name: str
    tz: str
    role: str


CAST = (
    Person("U0MAYA001", "maya", "Maya Chen", "America/Los_Angeles", "mentor"),
    Person("U0RAVI002", "ravi", "Ravi Kumar", "Asia/Kolkata", "mentee"),
    Person("U0CAROL03", "carol", "Carol Okafor", "Europe/London", "coordinator"),
    # Carol also mentors Lena; busy weeks, no meeting set: the bot's care nudge.
    Person("U0LENA004", "lena", "Lena Novak", "Europe/Berlin", "mentee"),
)


@dataclass
class Event:
    """One thing a person saw or did, at the program's clock time."""

    at: datetime
    user_id: str
    kind: str  # dm | group | ephemeral | modal | home | action
    summary: str
    payload: dict[str, Any] = field(default_factory=dict)


class DemoClock:
    """The program's clock. Moving it moves the emulated Slack's clock too, so
    Slack's rate limits see three weeks pass, not the seconds the demo takes."""

    def __init__(self, now: datetime) -> None:
        self._now = now
        self.slack: SlackEmulator | None = None

    def __call__(self) -> datetime:
        return self._now

    @property
    def now(self) -> datetime:
        return self._now

    @now.setter
    def now(self, when: datetime) -> None:
        if self.slack is not None and when > self._now:
            self.slack.advance((when - self._now).total_seconds())
        self._now = when


class Demo:
    def __init__(
        self,
        content: Content,
        out: Path,
        *,
        days: int = 21,
        seed: int = 7,
        stream: TextIO = sys.stdout,
        progress: TextIO | None = sys.stderr,
    ) -> None:
        self.content = content
        self.out = out
        self.days = days
        self.random = random.Random(seed)
        self.stream = stream
        self.progress = progress
        self.clock = DemoClock(PROGRAM_START)
        self.events: list[Event] = []
        self.people = {p.user_id: p for p in CAST}
        self.names = {p.user_id: p.real_name for p in CAST}
        self.mentor, self.mentee, self.coordinator, self.quiet_mentee = CAST

    # ------------------------------------------------------------------ running

    def run(self) -> Path:
        self.out.mkdir(parents=True, exist_ok=True)
        database_path = self.out / "demo.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database_path}{suffix}").unlink(missing_ok=True)
        with SlackEmulator() as slack:
            self.clock.slack = slack
            for person in CAST:
                slack.add_user(
                    person.user_id, name=person.name, real_name=person.real_name, tz=person.tz
                )
            settings = load_settings(
                {
                    "SLACK_BOT_TOKEN": "xoxb-demo",
                    "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                    "SLACK_API_URL": slack.base_url,
                    "DATABASE_URL": f"sqlite:///{database_path}",
                    "MENTOR_ADMINS": self.coordinator.user_id,
                    "MENTOR_SCHEDULER": "off",
                },
                dotenv=False,
            )
            db = Database(settings.database_url)
            upgrade(db.engine)
            with LocalApp(settings, content=self.content, db=db, clock=self.clock) as app:
                self.slack, self.app, self.db, self.settings = slack, app, db, settings
                self.driver = slack.driver(app.url, SIGNING_SECRET)
                self._program()
            db.dispose()
        return self._write_html()

    def _program(self) -> None:
        mentor, mentee, coordinator = self.mentor, self.mentee, self.coordinator
        self._quiet_pair()
        self._say(f"{mentor.real_name} invites {mentee.real_name} to be her mentee")
        self._act(
            mentor,
            "/mentor start",
            lambda: self.driver.slash(mentor.user_id, f"start <@{mentee.user_id}|{mentee.name}>"),
        )
        invitation = self.slack.messages_in(mentee.user_id)[-1]
        self._act(
            mentee,
            "pressed Accept",
            lambda: self.driver.click(mentee.user_id, invitation, Action.ACCEPT_INVITE),
        )
        group = self.slack.mpim_for(mentor.user_id, mentee.user_id)
        kickoff = self.slack.messages_in(group)[-1]
        self._set_goals(mentee, kickoff)
        self._act(
            mentee,
            "pressed Schedule our next 3 meetings",
            lambda: self.driver.click(mentee.user_id, kickoff, Action.OPEN_SCHEDULE),
        )
        modal = self.driver.last_view_opened(mentee.user_id)
        first = self._first_meeting_time()
        times = [first + timedelta(days=7 * week) for week in range(3)]
        values = {
            block: {"value": Input.datetime(int(t.timestamp()))}
            for block, t in zip(("meeting_1", "meeting_2", "meeting_3"), times, strict=True)
        }
        values[Block.LENGTH] = {"value": Input.plain_text("45")}
        self._act(
            mentee,
            "saved three meetings",
            lambda: self.driver.submit_view(mentee.user_id, modal, values),
        )
        self._act(
            mentee,
            "/mentor ask",
            lambda: self.driver.slash(mentee.user_id, f"ask {PARKED_QUESTION}"),
        )
        self._act(
            coordinator, "opened App Home", lambda: self.driver.app_home_opened(coordinator.user_id)
        )

        end_at = PROGRAM_START + timedelta(days=self.days)
        answered: set[str] = set()
        total_steps = int((end_at - self.clock.now) / STEP)
        for step in range(total_steps):
            self.clock.now += STEP
            mark = self.slack.mark()
            from bot.runtime import tick

            tick(self.settings, self.content, self.db, now=self.clock.now)
            self._collect(mark)
            self._answer_prompts(answered)
            self._progress(step + 1, total_steps)
        self._act(mentee, "/mentor status", lambda: self.driver.slash(mentee.user_id, "status"))
        self._act(mentor, "opened App Home", lambda: self.driver.app_home_opened(mentor.user_id))
        self._act(
            coordinator, "opened App Home", lambda: self.driver.app_home_opened(coordinator.user_id)
        )
        ending = self._act(mentor, "/mentor end", lambda: self.driver.slash(mentor.user_id, "end"))
        confirm = {"ts": "0", "blocks": (ending.json or {}).get("blocks", [])}
        self._act(
            mentor,
            "pressed End pairing",
            lambda: self.driver.click(
                mentor.user_id,
                confirm,
                Action.END_CONFIRM,
                channel=self.slack.dm_channel(mentor.user_id),
            ),
        )
        self.clock.now += timedelta(minutes=1)
        mark = self.slack.mark()
        from bot.runtime import tick

        tick(self.settings, self.content, self.db, now=self.clock.now)
        self._collect(mark)
        if self.progress:
            self.progress.write("\n")

    def _quiet_pair(self) -> None:
        """A second pair that never sets a meeting: three weeks on, the bot nudges it."""
        coordinator, lena = self.coordinator, self.quiet_mentee
        self._say(f"{coordinator.real_name} also mentors {lena.real_name}; they never meet")
        self._act(
            coordinator,
            "/mentor start",
            lambda: self.driver.slash(coordinator.user_id, f"start <@{lena.user_id}|{lena.name}>"),
        )
        invitation = self.slack.messages_in(lena.user_id)[-1]
        self._act(
            lena,
            "pressed Accept",
            lambda: self.driver.click(lena.user_id, invitation, Action.ACCEPT_INVITE),
        )

    def _set_goals(self, person: Person, kickoff: dict) -> None:
        self._act(
            person,
            "pressed Set our goals",
            lambda: self.driver.click(person.user_id, kickoff, Action.OPEN_GOALS),
        )
        modal = self.driver.last_view_opened(person.user_id)
        values: dict[str, dict[str, Any]] = {
            Block.AGREE_CADENCE: {"value": Input.static_select("weekly")},
            Block.AGREE_CONTACT: {"value": Input.plain_text(AGREEMENT[0])},
            Block.AGREE_CONFIDENTIAL: {"value": Input.plain_text(AGREEMENT[1])},
        }
        for (what, why, weeks), blocks in zip(GOALS, GOAL_BLOCKS, strict=False):
            by = (self.clock.now + timedelta(weeks=weeks)).date().isoformat()
            values[blocks[0]] = {"value": Input.plain_text(what)}
            values[blocks[1]] = {"value": Input.plain_text(why)}
            values[blocks[2]] = {"value": Input.date(by)}
        self._act(
            person,
            "saved two goals and the agreement",
            lambda: self.driver.submit_view(person.user_id, modal, values),
        )

    def _first_meeting_time(self) -> datetime:
        """Wednesday, at a time both can make: early morning in LA, evening in Kolkata."""
        day = PROGRAM_START + timedelta(days=2)
        return day.replace(hour=15, minute=30)

    def _answer_prompts(self, answered: set[str]) -> None:
        """The cast answers what the bot asked, as people would."""
        for person in (self.mentor, self.mentee):
            for message in self.slack.messages_in(person.user_id):
                key = f"{person.user_id}:{message['ts']}"
                if key in answered:
                    continue
                text = message.get("text", "")
                if person.role == "mentee" and text.startswith("Prepare for"):
                    answered.add(key)
                    self._prep(person, message)
                elif text == "How did your mentoring meeting go?":
                    answered.add(key)
                    self._feedback(person, message)
                elif "mentoring tip" in text and self.random.random() < 0.3:
                    answered.add(key)
                    action = Action.TIP_UP if self.random.random() < 0.8 else Action.TIP_DOWN
                    self._act(
                        person,
                        "rated a tip",
                        lambda m=message, a=action, p=person: self.driver.click(p.user_id, m, a),
                    )
                else:
                    answered.add(key)

    def _prep(self, person: Person, message: dict) -> None:
        self._act(
            person,
            "pressed Add focus and questions",
            lambda: self.driver.click(person.user_id, message, Action.OPEN_PREP),
        )
        modal = self.driver.last_view_opened(person.user_id)
        focus, questions = self.random.choice(FOCUS_IDEAS)
        self._act(
            person,
            f"shared prep: {focus}",
            lambda: self.driver.submit_view(
                person.user_id,
                modal,
                {
                    Block.FOCUS: {"value": Input.plain_text(focus)},
                    Block.QUESTIONS: {"value": Input.plain_text(questions)},
                },
            ),
        )

    def _feedback(self, person: Person, message: dict) -> None:
        self._act(
            person,
            "answered Did it happen? Yes",
            lambda: self.driver.click(person.user_id, message, f"{Action.FEEDBACK_HAPPENED}:yes"),
        )
        score = self.random.choice([4, 4, 5, 3])
        current = self.slack.message(message["ts"]) or message
        rows = [
            block["block_id"]
            for block in current.get("blocks", [])
            if block.get("type") == "actions" and block.get("block_id", "").startswith("goal:")
        ]
        for number, block_id in enumerate(rows):
            progress = "done" if number == 0 else "some"
            self._act(
                person,
                f"marked goal {number + 1}: {progress}",
                lambda b=block_id, p=progress: self.driver.click(
                    person.user_id,
                    self.slack.message(message["ts"]) or message,
                    f"{Action.GOAL_PROGRESS}:{p}",
                    block_id=b,
                ),
            )
        current = self.slack.message(message["ts"]) or message
        self._act(
            person,
            f"rated usefulness {score}",
            lambda: self.driver.click(
                person.user_id, current, f"{Action.FEEDBACK_USEFULNESS}:{score}"
            ),
        )
        current = self.slack.message(message["ts"]) or message
        self._act(
            person,
            "pressed Add what helped / what to change",
            lambda: self.driver.click(person.user_id, current, Action.OPEN_FEEDBACK_DETAILS),
        )
        modal = self.driver.last_view_opened(person.user_id)
        self._act(
            person,
            "saved private notes",
            lambda: self.driver.submit_view(
                person.user_id,
                modal,
                {
                    Block.HELPED: {"value": Input.plain_text(self.random.choice(HELPED))},
                    Block.CHANGE: {"value": Input.plain_text(self.random.choice(CHANGE))},
                },
            ),
        )

    def _act(self, person: Person, what: str, action: Callable[[], Any]) -> Any:
        mark = self.slack.mark()
        self._record(Event(self.clock.now, person.user_id, "action", what))
        result = action()
        self.app.drain()
        self._collect(mark)
        status = getattr(result, "status", 200)
        if status != 200:
            raise RuntimeError(f"{person.name} {what}: the app answered HTTP {status}")
        if getattr(result, "json", None) and person.user_id in self.people:
            body = result.json
            if (
                body.get("response_type") == "ephemeral"
                or body.get("blocks")
                and not body.get("response_action")
            ):
                self._record(
                    Event(self.clock.now, person.user_id, "ephemeral", _summary(body), body)
                )
            elif body.get("response_action") == "errors":
                self._record(
                    Event(
                        self.clock.now,
                        person.user_id,
                        "ephemeral",
                        "form refused: " + "; ".join(body.get("errors", {}).values()),
                        body,
                    )
                )
        return result

    # ----------------------------------------------------------- what people saw

    def _collect(self, mark: int) -> None:
        for call in self.slack.calls[mark:]:
            if not call.response.get("ok", call.method == "response_url"):
                continue
            for event in self._events_for(call):
                self._record(event)

    def _events_for(self, call: RecordedCall) -> list[Event]:
        now, args = self.clock.now, call.args
        if call.method in {"chat.postMessage", "chat.update"}:
            channel = call.response.get("channel") or args.get("channel")
            message = dict(call.response.get("message") or {})
            message.setdefault("blocks", args.get("blocks") or [])
            message.setdefault("text", args.get("text", ""))
            message["ts"] = call.response.get("ts") or args.get("ts")
            readers = self._readers(channel)
            kind = "group" if len(readers) > 1 else "dm"
            prefix = "updated: " if call.method == "chat.update" else ""
            return [Event(now, r, kind, prefix + _summary(message), message) for r in readers]
        if call.method == "files.completeUploadExternal":
            channel = args.get("channel_id")
            files = call.response.get("files") or []
            names = ", ".join(str(f.get("name")) for f in files)
            message = {"text": args.get("initial_comment") or "", "blocks": [], "files": files}
            readers = self._readers(channel)
            kind = "group" if len(readers) > 1 else "dm"
            return [Event(now, r, kind, f"shared files: {names}", message) for r in readers]
        if call.method == "response_url":
            user = self._user_of_response(args)
            if user and not args.get("delete_original"):
                return [Event(now, user, "ephemeral", _summary(args), dict(args))]
        if call.method in {"views.open", "views.push"}:
            view = call.response.get("view") or {}
            user = self.slack.view_user(view.get("id", "")) if view else None
            if user:
                return [Event(now, user, "modal", _summary(view), view)]
        if call.method == "views.publish":
            view = call.response.get("view") or {}
            return [Event(now, args.get("user_id", ""), "home", "App Home", view)]
        return []

    def _readers(self, channel: str | None) -> list[str]:
        if not channel:
            return []
        if channel in self.people:
            return [channel]
        for person in self.people:
            if self.slack.dm_channel(person) == channel:
                return [person]
        info = self.slack.channel_info(channel) or {}
        members = info.get("members") or []
        return [m for m in self.people if m in members]

    def _user_of_response(self, args: dict[str, Any]) -> str | None:
        for sent in reversed(self.driver.sent):
            if sent.response is not None and getattr(sent.response, "response_url", None):
                if sent.response.response_url.endswith(str(args.get("_id", "∅"))) or (
                    args.get("_url") and sent.response.response_url == args.get("_url")
                ):
                    return sent.user_id
        return None

    def _record(self, event: Event) -> None:
        self.events.append(event)
        person = self.people.get(event.user_id)
        if person is None:
            return
        local = event.at.astimezone(ZoneInfo(person.tz))
        label = {
            "dm": "DM",
            "group": "group DM",
            "ephemeral": "only you",
            "modal": "modal",
            "home": "App Home",
            "action": "you",
        }[event.kind]
        when = local.strftime("%a %d %b %H:%M")
        summary = readable(event.summary, names=self.names, reader_tz=person.tz, now=event.at)
        line = f"{when} {person.real_name:<12} [{label}] {summary}"
        if self.progress and self.progress.isatty():
            self.progress.write("\r\x1b[K")
        self.stream.write(line[:160] + "\n")

    def _progress(self, step: int, total: int) -> None:
        if self.progress is None:
            return
        # The clock is past the pass just run: the last one ends on the first moment of
        # the day after.
        day = min((self.clock.now - PROGRAM_START).days + 1, self.days)
        text = f"  day {day}/{self.days} · {len(self.events)} things shown · {step}/{total} passes"
        if self.progress.isatty():
            self.progress.write("\r" + text)
        elif step % 96 == 0 or step == total:
            self.progress.write(text + "\n")
        self.progress.flush()

    def _say(self, text: str) -> None:
        self.stream.write(f"== {text}\n")

    # ------------------------------------------------------------------ the page

    def _write_html(self) -> Path:
        from bot.preview.page import build_page

        html = build_page(self.events, CAST, content=self.content)
        path = self.out / "demo.html"
        path.write_text(html, encoding="utf-8")
        return path


_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_DATE = re.compile(r"<!date\^(\d+)\^([^|>]*)(?:\|([^>]*))?>")


def readable(text: str, *, names: dict[str, str], reader_tz: str, now: datetime) -> str:
    """Slack markup as a person reads it: names for mentions, dates in their own zone."""

    def date(match: re.Match[str]) -> str:
        shown = format_date_token(int(match.group(1)), match.group(2), reader_tz=reader_tz, now=now)
        return shown or match.group(3) or ""

    text = _MENTION.sub(lambda m: "@" + names.get(m.group(1), m.group(1)), text)
    text = _DATE.sub(date, text)
    return re.sub(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])", r"\1", text)


def _summary(payload: dict[str, Any]) -> str:
    text = payload.get("text")
    if isinstance(text, dict):
        text = text.get("text")
    if not text:
        title = payload.get("title")
        text = title.get("text") if isinstance(title, dict) else None
    if not text:
        for block in payload.get("blocks") or []:
            inner = block.get("text")
            if isinstance(inner, dict) and inner.get("text"):
                text = inner["text"]
                break
    return " ".join(str(text or "").split())[:120]


def run_demo(
    content: Content, out: Path, *, days: int = 21, seed: int = 7, stream: TextIO = sys.stdout
) -> Path:
    started = time.monotonic()
    # The transcript is the output; the app's own INFO logs would drown it.
    logging.getLogger().setLevel(logging.WARNING)
    demo = Demo(content, out, days=days, seed=seed, stream=stream)
    path = demo.run()
    stream.write(
        f"\nDone in {time.monotonic() - started:.1f} s: {len(demo.events)} things shown to "
        f"{len(CAST)} people.\nOpen {path} in a browser to see it as Slack would.\n"
    )
    return path


def clean_out(out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
