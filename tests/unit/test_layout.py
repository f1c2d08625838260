"""The shape of the code: what the app that serves Slack may and may not import."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_serve_and_worker_never_import_the_slack_emulator() -> None:
    # The emulator is a test and preview tool: if anything on the serving path
    # imported it, a bug in it could reach production, and its leniency could
    # hide one. A fresh interpreter shows the real import graph.
    script = textwrap.dedent(
        """
        import sys
        from bot.__main__ import main  # the console script
        from bot.app import create_app
        from bot.config import load_settings
        from bot.runtime import run_worker, serve, tick
        from bot.web import create_web_app

        settings = load_settings(
            {
                "SLACK_BOT_TOKEN": "xoxb-layout",
                "SLACK_SIGNING_SECRET": "layout",
                "DATABASE_URL": "sqlite://",
            },
            dotenv=False,
        )
        bolt, deps = create_app(settings)
        create_web_app(bolt, deps)
        reached = sorted(m for m in sys.modules if m == "slackemu" or m.startswith("slackemu."))
        print(",".join(reached))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"serve/worker import {result.stdout.strip()}"


def test_queries_live_in_the_store_only() -> None:
    # Services hold the rules, listeners stay thin and the scheduler delivers: every SQL
    # statement is built in bot/store/ (README, "Architecture"). A query written
    # anywhere else fails here.
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "bot"
    query = re.compile(
        r"session\.(execute|scalar|scalars|query|get)\(|"
        r"(?<![.\w])(?<!def )(select|delete|update|insert)\(|"
        r"from sqlalchemy import .*\b(select|delete|update|insert|func)\b"
    )
    found = [
        f"{path.relative_to(root.parent)}:{number}: {line.strip()}"
        for folder in ("services", "listeners", "scheduling")
        for path in sorted((root / folder).glob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if query.search(line)
    ]
    assert found == []
