"""Multi-workspace mode: installing through OAuth, then serving and scheduling with that token."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from bot.config import load_settings
from bot.local import LocalApp
from bot.store.db import Database
from bot.store.migrate import upgrade
from slackemu import SlackEmulator
from tests.conftest import MENTEE, MENTOR, START, Clock, all_text

SECRET = "oauth-signing-secret"


@pytest.fixture
def oauth_app(database_url: str, content: Any) -> Iterator[tuple[SlackEmulator, LocalApp, Any]]:
    with SlackEmulator(tokens={}) as slack:
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
            yield slack, app, settings
        db.dispose()


def _get(url: str, cookie: str | None = None) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


def test_install_then_use_the_workspace_token(oauth_app: Any) -> None:
    slack, app, settings = oauth_app
    driver = slack.driver(app.url, SECRET)
    # Before installing, the workspace is unknown: Slack's requests are refused politely.
    assert "Please install" in driver.slash(MENTOR, "help").text or driver.slash(
        MENTOR, "help"
    ).status in {200, 401}

    status, page, headers = _get(f"{app.url}/slack/install")
    assert status == 200
    state = re.search(r"state=([^&\"]+)", page).group(1)
    cookie = headers["Set-Cookie"].split(";")[0]
    forged_status, _, _ = _get(f"{app.url}/slack/oauth_redirect?code=abc&state=forged", cookie)
    assert forged_status >= 400
    # A code Slack never issued is refused by oauth.v2.access, so the install fails.
    status, _, _ = _get(f"{app.url}/slack/oauth_redirect?code=made-up&state={state}", cookie)
    assert status >= 400
    assert slack.calls_to("oauth.v2.access")[-1].response["error"] == "invalid_code"
    status, page, headers = _get(f"{app.url}/slack/install")
    state = re.search(r"state=([^&\"]+)", page).group(1)
    cookie = headers["Set-Cookie"].split(";")[0]
    code = slack.authorize(settings.client_id, installer=MENTOR)
    status, page, _ = _get(f"{app.url}/slack/oauth_redirect?code={code}&state={state}", cookie)
    assert status == 200, page
    assert slack.calls_to("oauth.v2.access")[-1].response["ok"]

    response = driver.slash(MENTOR, "help")
    assert response.status == 200 and "/mentor start @person" in all_text(response.json)
    mark = slack.mark()
    driver.slash(MENTOR, f"start <@{MENTEE}|bob>")
    app.drain()
    invitation = slack.wait_for("chat.postMessage", after=mark)
    assert invitation.response["ok"], invitation.response

    # The scheduler finds the installation's token for the workspace too.
    from datetime import timedelta

    from bot.runtime import tick
    from bot.store.outbox import PlannedMessage, plan

    with app.deps.db.session() as session:
        plan(
            session,
            [
                PlannedMessage(
                    team_id=slack.team_id,
                    key="oauth-test-tip",
                    kind="tip",
                    recipient=MENTEE,
                    due_at=START,
                    payload={"tip_id": app.deps.content.mentee_practices[0].id, "role": "mentee"},
                )
            ],
            now=START,
        )
    report = tick(settings, app.deps.content, app.deps.db, now=START + timedelta(minutes=1))
    assert report.sent == 1
