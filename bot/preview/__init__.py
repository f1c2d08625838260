"""Static HTML previews of what Slack would show, for the local demo page.

Pure rendering only: the functions here take recorded Slack payloads and return
strings; writing the page is the caller's business.
"""

from bot.preview.mrkdwn import render_mrkdwn
from bot.preview.render import (
    Column,
    TimelineItem,
    page,
    render_blocks,
    render_element,
    render_home,
    render_message,
    render_modal,
    render_text,
)

__all__ = [
    "Column",
    "TimelineItem",
    "page",
    "render_blocks",
    "render_element",
    "render_home",
    "render_message",
    "render_modal",
    "render_mrkdwn",
    "render_text",
]
