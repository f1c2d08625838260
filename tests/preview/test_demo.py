"""`mentor-bot demo`: the whole program locally, in the terminal and in a Slack-like page."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.content import load_content
from bot.demo import CAST, run_demo

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:selenium")


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("demo")
    transcript = io.StringIO()
    run_demo(load_content(), out, days=21, seed=3, stream=transcript)
    return out, transcript.getvalue()


def test_demo_runs_the_whole_program(demo_out: tuple[Path, str]) -> None:
    # How long it takes is measured (the demo prints it; README), never asserted here:
    # a busy machine made a wall-clock bound fail a correct run.
    out, transcript = demo_out
    for step in (
        "/mentor start",
        "pressed Accept",
        "Welcome @Maya Chen and @Ravi Kumar",
        "saved three meetings",
        "Prepare for your mentoring meeting",
        "shared prep:",
        "How did your mentoring meeting go?",
        "rated usefulness",
        "mentoring tip",
        "/mentor status",
        "pressed End pairing",
        # Coaching that adapts: goals and the agreement, a parked question, progress
        # taps on the second poll, and the quiet pair nudged three weeks in.
        "saved two goals and the agreement",
        ":dart: Our goals · 2 open, 0 done",
        "/mentor ask",
        "marked goal 1: done",
        "updated: :dart: Our goals · 1 open, 1 done",
        "three weeks since you paired up",
        "shared files: mentoring-meeting-1.ics",
    ):
        assert step in transcript, step
    # Each person reads times in their own zone: the first meeting is 07:30 in LA, 21:00 in Kolkata.
    assert "7:30 AM" in transcript and "9:00 PM" in transcript
    assert (out / "demo.html").stat().st_size > 10_000
    assert (out / "demo.db").exists()


def test_demo_command_line_and_bad_content(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(Path(__file__).parents[2] / "content", content)
    messages = content / "messages.yml"
    text = messages.read_text()
    messages.write_text(text.replace("{invitee} has declined", "{invitee has declined", 1))
    line = next(
        i
        for i, row in enumerate(messages.read_text().splitlines(), 1)
        if "{invitee has declined" in row
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "demo",
            "--content",
            str(content),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PATH": os.environ.get("PATH", "")},
    )
    assert result.returncode == 1
    assert f"messages.yml:{line - 1}:" in result.stderr or f"messages.yml:{line}:" in result.stderr
    assert "Traceback" not in result.stderr
    check = subprocess.run(
        [sys.executable, "-m", "bot", "content", "check", str(content)],
        capture_output=True,
        text=True,
    )
    assert check.stdout.strip() == result.stderr.strip()


def _browser():  # type: ignore[no-untyped-def]
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = shutil.which("chromedriver")
    if not chromium or not chromedriver:
        if os.environ.get("CI"):
            pytest.fail("CI must install Debian's chromium and chromium-driver")
        pytest.skip("chromium and chromedriver are not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1600,1200",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(chromedriver), options=options)


def test_demo_page_shows_what_slack_would(demo_out: tuple[Path, str]) -> None:
    out, _ = demo_out
    from selenium.webdriver.common.by import By

    browser = _browser()
    try:
        browser.get((out / "demo.html").as_uri())
        visible = browser.find_element(By.TAG_NAME, "body").text
        for person in CAST:
            assert person.real_name in visible
        # The kickoff with its agenda and button.
        assert "Welcome to your mentoring pair" in visible
        assert "Get acquainted. Build the relationships first." in visible
        assert "Schedule our next 3 meetings" in visible
        # A prep prompt, a feedback poll and a tip, as people read them.
        assert "Prepare for your mentoring meeting" in visible
        assert "Add focus and questions" in visible
        assert "Did it happen?" in visible and "How useful was it?" in visible
        assert "Today's tip for you as a" in visible
        assert "👍" in visible
        # Mentions are names, never raw IDs; date tokens are rendered.
        assert "<@U0" not in visible and "<!date" not in visible
        assert "@Ravi Kumar" in visible
        # The parked question in the prep prompt, the goals in the pair's group DM.
        assert "How did you decide when to stop doing hands-on work?" in visible
        assert "Run a design review on my own" in visible
        # Each confirmed meeting as a calendar file in the group DM.
        assert "mentoring-meeting-1.ics" in visible and "Calendar event" in visible
        browser.save_screenshot(str(out / "demo.png"))
    finally:
        browser.quit()
