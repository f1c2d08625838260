"""A workspace's life with Slack: authorizations cached, uninstall and revocation, dead
tokens, reinstall, token rotation and the retention period after an uninstall."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.config import load_settings
from bot.local import LocalApp
from bot.runtime import tick
from bot.scheduling.engine import Engine
from bot.scheduling.sender import SlackSender
from bot.store import outbox, workspaces
from bot.store.db import Database
from bot.store.migrate import upgrade
from bot.store.models import Installation, Person, ScheduledMessage, Workspace
from bot.store.outbox import PlannedMessage
from slackemu import TEAM_ID, SlackEmulator
from tests.conftest import MENTEE, MENTOR, START, Clock

SECRET = "lifecycle-signing-secret"
NOT_INSTALLED = "your installation with this app is no longer available"


@dataclass
class OAuth:
    slack: SlackEmulator
    app: LocalApp
    settings: Any
    db: Database

    @property
    def driver(self) -> Any:
        return self.slack.driver(self.app.url, SECRET)

    def install(self) -> None:
        status, page, headers = _get(f"{self.app.url}/slack/install")
        assert status == 200
        state = re.search(r"state=([^&\"]+)", page).group(1)  # type: ignore[union-attr]
        cookie = headers["Set-Cookie"].split(";")[0]
        code = self.slack.authorize(self.settings.client_id, installer=MENTOR)
        url = f"{self.app.url}/slack/oauth_redirect?code={code}&state={state}"
        status, page, _ = _get(url, cookie)
        assert status == 200, page

    def installation(self) -> Installation | None:
        with self.db.session() as session:
            return session.scalars(select(Installation)).first()

    def workspace(self) -> Workspace | None:
        return self.db.call(workspaces.get, team_id=TEAM_ID)

    def tick(self, now: datetime) -> Any:
        return tick(self.settings, self.app.deps.content, self.db, now=now)


def _get(url: str, cookie: str | None = None) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


def _oauth(database_url: str, content: Any, **emulator: Any) -> Iterator[OAuth]:
    with SlackEmulator(tokens={}, **emulator) as slack:
        slack.add_user(MENTOR, name="alice", tz="America/Los_Angeles")
        slack.add_user(MENTEE, name="bob", tz="Asia/Kolkata")
        settings = load_settings(
            {
                "SLACK_CLIENT_ID": "111.222",
                "SLACK_CLIENT_SECRET": "client-secret",
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": slack.base_url,
                "DATABASE_URL": database_url,
                "MENTOR_SCHEDULER": "off",
            },
            dotenv=False,
        )
        db = Database(database_url)
        upgrade(db.engine)
        with LocalApp(settings, content=content, db=db, clock=Clock(START)) as app:
            yield OAuth(slack, app, settings, db)
        db.dispose()


@pytest.fixture
def oauth(database_url: str, content: Any) -> Iterator[OAuth]:
    yield from _oauth(database_url, content)


def plan_tips(db: Database, content: Any, users: list[str], due: datetime) -> None:
    db.call(
        outbox.plan,
        [
            PlannedMessage(
                team_id=TEAM_ID,
                key=f"tip:{TEAM_ID}:{user}:{due.date().isoformat()}",
                kind="tip",
                recipient=user,
                due_at=due,
                payload={"tip_id": content.mentee_practices[0].id, "role": "mentee"},
            )
            for user in users
        ],
        now=due,
    )


def statuses(db: Database) -> dict[str, int]:
    return db.call(outbox.counts_by_status)


# --------------------------------------------------------------------- authorize


def test_oauth_requests_call_slack_not_once_before_their_ack(oauth: OAuth) -> None:
    oauth.install()
    driver = oauth.driver
    mark = oauth.slack.mark()
    for _ in range(6):
        response = driver.slash(MENTOR, "help")
        assert response.status == 200 and "/mentor start" in response.text
    # Not even the first: what auth.test would say was stored at install time.
    calls = [c.method for c in oauth.slack.calls[mark:]]
    assert calls == [], f"Slack was called for 6 acks: {calls}"


# ------------------------------------------------------------ uninstall / revoke


@pytest.mark.parametrize("event", ["app_uninstalled", "tokens_revoked"])
def test_uninstall_or_revocation_stops_the_workspace_at_once(
    oauth: OAuth, content: Any, event: str
) -> None:
    oauth.install()
    driver = oauth.driver
    assert driver.slash(MENTOR, "help").status == 200  # caches the authorization
    plan_tips(oauth.db, content, [MENTOR, MENTEE], START + timedelta(hours=1))
    plan_tips(oauth.db, content, [MENTOR], START + timedelta(days=1))
    with oauth.db.session() as session:
        session.add(Person(team_id=TEAM_ID, user_id=MENTEE, tips_planned_until=START))

    response = driver.app_uninstalled() if event == "app_uninstalled" else driver.tokens_revoked()
    assert response.status == 200

    assert oauth.installation() is None
    state = oauth.workspace()
    assert state is not None and state.status == "uninstalled" and state.reason == event
    assert statuses(oauth.db) == {"held": 3}
    with oauth.db.session() as session:
        assert session.scalar(select(Person.tips_planned_until)) is None

    # No cached authorization outlives the token: the next request is not served.
    mark = oauth.slack.mark()
    driver.slash(MENTOR, "help")
    oauth.app.drain()
    answered = oauth.slack.calls[mark:]
    assert [c.method for c in answered] == ["response_url"]
    assert NOT_INSTALLED in answered[0].args["text"]

    # The scheduler sends nothing there, even what is due and planned afterwards.
    plan_tips(oauth.db, content, [MENTEE], START + timedelta(hours=2))
    report = oauth.tick(START + timedelta(days=2))
    assert report.sent == 0 and not oauth.slack.calls_to("chat.postMessage")


def test_a_token_that_died_without_an_event_is_not_served_from_the_cache(
    oauth: OAuth, content: Any
) -> None:
    oauth.install()
    assert "/mentor start" in oauth.driver.slash(MENTOR, "help").text  # cached
    oauth.slack.revoke_bot_tokens()  # Slack's event never reaches the app
    plan_tips(oauth.db, content, [MENTOR, MENTEE], START)

    report = oauth.tick(START + timedelta(minutes=1))  # the scheduler finds out

    assert report.outcomes == {"held": 2}
    state = oauth.workspace()
    assert state is not None and (state.status, state.reason) == ("paused", "token_revoked")
    mark = oauth.slack.mark()
    oauth.driver.slash(MENTOR, "help")
    oauth.app.drain()
    answered = oauth.slack.calls[mark:]
    assert [c.method for c in answered] == ["response_url"]
    assert NOT_INSTALLED in answered[0].args["text"]

    oauth.install()  # a reinstall: a new token, the workspace resumes
    assert oauth.workspace() is None and statuses(oauth.db) == {"pending": 2}
    assert "/mentor start" in oauth.driver.slash(MENTOR, "help").text


def test_reinstall_resumes_the_workspace(oauth: OAuth, content: Any) -> None:
    oauth.install()
    plan_tips(oauth.db, content, [MENTOR], START + timedelta(hours=1))
    plan_tips(oauth.db, content, [MENTEE], START - timedelta(days=3))  # will be stale
    oauth.driver.app_uninstalled()
    assert statuses(oauth.db) == {"held": 2}

    oauth.install()

    assert oauth.workspace() is None
    assert oauth.installation() is not None
    assert statuses(oauth.db) == {"pending": 1, "cancelled": 1}
    report = oauth.tick(START + timedelta(hours=1, minutes=1))
    assert report.sent == 1
    assert len(oauth.slack.messages_in(MENTOR)) == 1
    response = oauth.driver.slash(MENTOR, "help")
    assert response.status == 200 and "/mentor start" in response.text


def test_an_uninstalled_workspace_is_deleted_after_the_retention_period(
    oauth: OAuth, content: Any
) -> None:
    oauth.install()
    oauth.driver.slash(MENTOR, f"start <@{MENTEE}|bob>")
    oauth.app.drain()
    plan_tips(oauth.db, content, [MENTOR], START + timedelta(hours=1))
    other = "T0OTHER"
    with oauth.db.session() as session:
        session.add(Person(team_id=other, user_id=MENTOR))
    oauth.driver.app_uninstalled()

    assert oauth.settings.uninstall_retention_days == 30
    kept = oauth.tick(START + timedelta(days=29))
    assert "purged" not in kept.outcomes
    with oauth.db.session() as session:
        assert session.scalar(select(func.count()).select_from(ScheduledMessage))

    purged = oauth.tick(START + timedelta(days=30, minutes=1))

    assert purged.outcomes["purged"] == 1
    with oauth.db.session() as session:
        for table in _team_tables():
            count = session.scalar(
                select(func.count()).select_from(table).where(table.c.team_id == TEAM_ID)
            )
            assert count == 0, table.name
        assert session.scalar(select(Person.team_id)) == other


def _team_tables() -> list[Any]:
    from bot.store.models import Base

    return [t for t in Base.metadata.sorted_tables if "team_id" in t.c]


# ---------------------------------------------------------------- token rotation


@pytest.fixture
def rotating(database_url: str, content: Any) -> Iterator[OAuth]:
    # Tokens that expire in a minute: inside Bolt's (and the scheduler's) two-hour
    # refresh window at once, so the very next use refreshes them.
    yield from _oauth(database_url, content, token_rotation=True, token_expires_in=60)


def test_rotating_tokens_are_stored_and_refreshed(rotating: OAuth, content: Any) -> None:
    rotating.install()
    row = rotating.installation()
    assert row is not None
    first = row.bot_token
    assert first.startswith("xoxe.xoxb-") and row.bot_refresh_token.startswith("xoxe-")
    assert row.bot_token_expires_at is not None
    assert row.bot_token_expires_at <= datetime.now(UTC) + timedelta(seconds=61)

    # A request: Bolt's token rotator refreshes through oauth.v2.access and stores it.
    mark = rotating.slack.mark()
    response = rotating.driver.slash(MENTOR, "help")
    assert response.status == 200 and "/mentor start" in response.text
    refreshes = rotating.slack.calls_to("oauth.v2.access", grant_type="refresh_token")
    assert len(refreshes) == 1
    row = rotating.installation()
    assert row is not None and row.bot_token != first
    second = row.bot_token

    # The scheduler refreshes the same way when it is the one holding an old token.
    rotating.slack.advance(61)  # every token issued so far has expired
    plan_tips(rotating.db, content, [MENTOR], START)
    report = rotating.tick(START + timedelta(minutes=1))
    assert report.sent == 1, report.outcomes
    row = rotating.installation()
    assert row is not None and row.bot_token not in (first, second)
    posted = rotating.slack.calls_to("chat.postMessage")
    assert posted and posted[-1].response["ok"]
    assert len(rotating.slack.calls[mark:]) > 0


def test_the_scheduler_refreshes_rotating_tokens_with_nothing_to_send(rotating: OAuth) -> None:
    # So that a Slack request seldom has to refresh one before its ack.
    rotating.install()
    row = rotating.installation()
    assert row is not None
    first = row.bot_token
    mark = rotating.slack.mark()
    rotating.tick(START)
    assert [c.method for c in rotating.slack.calls[mark:]] == ["oauth.v2.access"]
    row = rotating.installation()
    assert row is not None and row.bot_token != first


# ------------------------------------------------------- single workspace: dead token


@dataclass
class Single:
    slack: SlackEmulator
    db: Database
    content: Any

    def engine(self, token: str = "xoxb-single") -> Engine:
        sender = SlackSender(api_url=self.slack.base_url, token_for_team=lambda _t: token)
        return Engine(self.db, sender, self.content, worker="w1", concurrency=1)


@pytest.fixture
def single(db: Database, content: Any) -> Iterator[Single]:
    with SlackEmulator(rate_limits=None) as slack:
        yield Single(slack, db, content)


PEOPLE = [f"UPERSON{i:03d}" for i in range(5)]


def _people(single: Single) -> None:
    for user in PEOPLE:
        single.slack.add_user(user, name=user.lower())
    with single.db.session() as session:
        for user in PEOPLE:
            session.add(
                Person(
                    team_id=TEAM_ID,
                    user_id=user,
                    tips_planned_until=START + timedelta(days=1),
                    tz_checked_at=START,  # known: the pass's first Slack call is a tip
                )
            )
    plan_tips(single.db, single.content, PEOPLE, START)


@pytest.mark.parametrize(
    "kill, error",
    [
        (lambda slack: slack.uninstall(), "account_inactive"),
        (lambda slack: slack.revoke_token("xoxb-single"), "token_revoked"),
        (lambda slack: slack.add_token("xoxb-other"), "invalid_auth"),
    ],
    ids=["account_inactive", "token_revoked", "invalid_auth"],
)
def test_a_dead_bot_token_pauses_the_whole_workspace_not_each_person(
    single: Single, kill: Any, error: str
) -> None:
    _people(single)
    if error == "invalid_auth":
        # A workspace that knows its tokens: the one the sender holds is unknown.
        single.slack.tokens = {"xoxb-other": TEAM_ID}
    else:
        kill(single.slack)

    report = single.engine().run_pass(START + timedelta(minutes=1))

    assert report.outcomes == {"held": len(PEOPLE)}
    assert len(single.slack.calls_to("chat.postMessage")) == 1  # one try, not one per person
    assert statuses(single.db) == {"held": len(PEOPLE)}
    state = single.db.call(workspaces.get, team_id=TEAM_ID)
    assert state is not None and state.status == "paused" and state.reason == error
    with single.db.session() as session:
        people = list(session.scalars(select(Person)))
    assert all(p.blocked_at is None for p in people), "no person is blamed for the token"
    assert all(p.tips_planned_until is None for p in people)


def test_a_paused_workspace_resumes_with_a_new_token_only(single: Single) -> None:
    _people(single)
    single.slack.revoke_token("xoxb-single")
    single.engine().run_pass(START + timedelta(minutes=1))

    same = single.engine().run_pass(START + timedelta(minutes=2))
    assert same.sent == 0 and statuses(single.db) == {"held": len(PEOPLE)}

    single.slack.add_token("xoxb-new")
    report = single.engine("xoxb-new").run_pass(START + timedelta(minutes=3))

    assert single.db.call(workspaces.get, team_id=TEAM_ID) is None
    assert report.sent == len(PEOPLE)


def test_person_errors_still_pause_only_that_person(single: Single) -> None:
    _people(single)
    single.slack.inject("chat.postMessage", error="user_not_found")
    report = single.engine().run_pass(START + timedelta(minutes=1))
    assert report.outcomes == {"paused": 1, "sent": len(PEOPLE) - 1}
    assert single.db.call(workspaces.get, team_id=TEAM_ID) is None


def test_single_workspace_app_uninstalled_event_stops_sending(harness: Any, content: Any) -> None:
    plan_tips(harness.db, content, [MENTOR], START + timedelta(hours=1))
    response = harness.driver.app_uninstalled()
    assert response.status == 200
    state = harness.db.call(workspaces.get, team_id=TEAM_ID)
    assert state is not None and state.status == "uninstalled"
    assert state.dead_token == workspaces.token_fingerprint(harness.settings.bot_token)
    report = harness.tick(START + timedelta(hours=2))
    assert report.sent == 0 and statuses(harness.db) == {"held": 1}


def test_the_sender_loop_forgets_a_dead_token_once_the_workspace_is_back(single: Single) -> None:
    # The sender loop calls deliver_due without a planning pass: a workspace that was
    # paused earlier in this process (and resumed since, elsewhere) is sent to again.
    _people(single)
    engine = single.engine()
    engine._dead_teams = {TEAM_ID}  # what an earlier delivery round left behind
    report = engine.deliver_due(START + timedelta(minutes=1))
    assert report.sent == len(PEOPLE)
