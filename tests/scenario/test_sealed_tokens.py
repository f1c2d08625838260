"""Bot tokens encrypted at rest (MENTOR_ENCRYPTION_KEY): installed, used, rotated."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from bot.config import load_settings
from bot.local import LocalApp
from bot.runtime import tick
from bot.store import installations
from bot.store.crypto import PREFIX, SealedTokenError, TokenCipher
from bot.store.db import Database
from bot.store.migrate import upgrade
from bot.store.models import Installation
from bot.store.outbox import PlannedMessage, plan
from slackemu import SlackEmulator
from tests.conftest import MENTEE, MENTOR, START, Clock, all_text
from tests.scenario.test_cli import run
from tests.scenario.test_oauth import SECRET, _get

OLD_KEY, NEW_KEY = Fernet.generate_key().decode(), Fernet.generate_key().decode()


@pytest.fixture
def sealed_app(database_url: str, content: Any) -> Iterator[tuple[SlackEmulator, LocalApp, Any]]:
    with SlackEmulator(tokens={}, token_rotation=True) as slack:
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
                "MENTOR_ENCRYPTION_KEY": OLD_KEY,
            },
            dotenv=False,
        )
        db = Database(database_url)
        upgrade(db.engine)
        with LocalApp(settings, content=content, db=db, clock=Clock(START)) as app:
            yield slack, app, settings
        db.dispose()


def _install(slack: SlackEmulator, app: LocalApp, settings: Any) -> dict:
    status, page, headers = _get(f"{app.url}/slack/install")
    state = re.search(r"state=([^&\"]+)", page).group(1)
    cookie = headers["Set-Cookie"].split(";")[0]
    code = slack.authorize(settings.client_id, installer=MENTOR)
    status, page, _ = _get(f"{app.url}/slack/oauth_redirect?code={code}&state={state}", cookie)
    assert status == 200, page
    return slack.calls_to("oauth.v2.access")[-1].response


def _raw(db: Database) -> tuple[str, str | None]:
    with db.engine.connect() as conn:
        row = conn.execute(select(Installation.bot_token, Installation.bot_refresh_token)).one()
    return row.bot_token, row.bot_refresh_token


def test_tokens_are_sealed_at_rest_and_used_as_before(sealed_app: Any) -> None:
    slack, app, settings = sealed_app
    issued = _install(slack, app, settings)
    token, refresh = issued["access_token"], issued["refresh_token"]
    stored_token, stored_refresh = _raw(app.deps.db)
    # Neither token is in the database in the clear; both open with the key.
    for stored, plain in ((stored_token, token), (stored_refresh, refresh)):
        assert stored.startswith(PREFIX) and plain not in stored
        assert TokenCipher([OLD_KEY]).open(stored) == plain
    with pytest.raises(SealedTokenError, match="not in MENTOR_ENCRYPTION_KEY"):
        TokenCipher([NEW_KEY]).open(stored_token)

    # Requests and the scheduler use the token as before.
    driver = slack.driver(app.url, SECRET)
    assert "/mentor start @person" in all_text(driver.slash(MENTOR, "help").json)
    with app.deps.db.session() as session:
        plan(
            session,
            [
                PlannedMessage(
                    team_id=slack.team_id,
                    key="sealed-tip",
                    kind="tip",
                    recipient=MENTEE,
                    due_at=START,
                    payload={"tip_id": app.deps.content.mentee_practices[0].id, "role": "mentee"},
                )
            ],
            now=START,
        )
    assert tick(settings, app.deps.content, app.deps.db, now=START).sent == 1

    # A rotating token refreshed by the scheduler is sealed too.
    soon_expired = datetime.now(UTC) + timedelta(minutes=5)
    with app.deps.db.session() as session:
        row = session.scalars(select(Installation)).one()
        row.bot_token_expires_at = soon_expired
    with app.deps.db.session() as session:
        plan(
            session,
            [
                PlannedMessage(
                    team_id=slack.team_id,
                    key="sealed-tip-2",
                    kind="tip",
                    recipient=MENTEE,
                    due_at=START,
                    payload={"tip_id": app.deps.content.mentee_practices[1].id, "role": "mentee"},
                )
            ],
            now=START,
        )
    assert tick(settings, app.deps.content, app.deps.db, now=START).sent == 1
    refreshed, _ = _raw(app.deps.db)
    assert refreshed.startswith(PREFIX) and refreshed != stored_token
    assert TokenCipher([OLD_KEY]).open(refreshed) != token


def test_db_reencrypt_rotates_keys(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/mentor-bot.db"
    env = {"DATABASE_URL": url}
    assert run(["db", "upgrade"], env, tmp_path).returncode == 0
    db = Database(url)
    with db.session() as session:  # stored before any key was set: plaintext
        installations.save(
            session,
            team_id="T0001",
            enterprise_id=None,
            bot_token="xoxb-plain-token",
            bot_user_id="U0BOT",
            bot_id="B0BOT",
            app_id="A0",
            scopes="chat:write",
            refresh_token=None,
            expires_at=None,
            now=START,
            resume=False,
        )
    assert _raw(db) == ("xoxb-plain-token", None)

    # No key, or a malformed one: one clear line, exit 2, nothing changed.
    result = run(["db", "reencrypt"], env, tmp_path)
    assert result.returncode == 2 and "MENTOR_ENCRYPTION_KEY is required" in result.stderr
    result = run(["db", "reencrypt"], {**env, "MENTOR_ENCRYPTION_KEY": "not-a-key"}, tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "not-a-key" not in result.stderr
    assert "MENTOR_ENCRYPTION_KEY must be Fernet keys" in result.stderr
    result = run(["serve"], {**env, "MENTOR_ENCRYPTION_KEY": f"{OLD_KEY},oops"}, tmp_path)
    assert result.returncode == 2 and "key 2 of 2" in result.stderr
    assert "Traceback" not in result.stderr
    assert _raw(db) == ("xoxb-plain-token", None)

    # The first key seals what was plaintext.
    result = run(["db", "reencrypt"], {**env, "MENTOR_ENCRYPTION_KEY": OLD_KEY}, tmp_path)
    assert result.returncode == 0 and "1 installation" in result.stdout, result.stderr
    sealed, _ = _raw(db)
    assert sealed.startswith(PREFIX) and TokenCipher([OLD_KEY]).open(sealed) == "xoxb-plain-token"

    # Rotation: the new key first, the old one after it; re-encrypt; the old key can go.
    keys = f"{NEW_KEY},{OLD_KEY}"
    result = run(["db", "reencrypt"], {**env, "MENTOR_ENCRYPTION_KEY": keys}, tmp_path)
    assert result.returncode == 0, result.stderr
    rotated, _ = _raw(db)
    assert TokenCipher([NEW_KEY]).open(rotated) == "xoxb-plain-token"
    with pytest.raises(SealedTokenError):
        TokenCipher([OLD_KEY]).open(rotated)
    db.cipher = TokenCipher([NEW_KEY])
    with db.session() as session:
        assert installations.find(session, team_id="T0001").bot_token == "xoxb-plain-token"
    # Without the key that sealed it, the token cannot be read, and the error says why.
    db.cipher = None
    with pytest.raises(SealedTokenError, match="MENTOR_ENCRYPTION_KEY is not set"):
        with db.session() as session:
            installations.find(session, team_id="T0001")
    result = run(["db", "reencrypt"], {**env, "MENTOR_ENCRYPTION_KEY": OLD_KEY}, tmp_path)
    assert result.returncode == 1 and "not in MENTOR_ENCRYPTION_KEY" in result.stderr
    # The app refuses to start on tokens it cannot read: one line, not a failure per request.
    now = ["tick", "--now", "2026-03-02T09:00:00Z"]
    result = run(now, {**env, "MENTOR_ENCRYPTION_KEY": OLD_KEY}, tmp_path)
    assert result.returncode == 1 and "not in MENTOR_ENCRYPTION_KEY" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    result = run(now, env, tmp_path)
    assert result.returncode == 1 and "MENTOR_ENCRYPTION_KEY is not set" in result.stderr
    result = run(now, {**env, "MENTOR_ENCRYPTION_KEY": NEW_KEY}, tmp_path)
    assert result.returncode == 0, result.stderr
    db.dispose()
