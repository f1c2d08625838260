"""A Slack-compatible emulator: Web API server plus the user side of Slack.

Used as the test suite's fake Slack, by ``mentor-bot demo`` and by benchmarks.
"""

from .driver import DriverResponse, Input, SentRequest, SlackDriver, find_action
from .limits import validate_message_blocks, validate_view
from .server import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    SLACK_TIERS,
    TEAM_ID,
    RateLimits,
    RecordedCall,
    SlackEmulator,
)
from .signing import sign, signed_headers

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_USER_ID",
    "SLACK_TIERS",
    "TEAM_ID",
    "DriverResponse",
    "Input",
    "RateLimits",
    "RecordedCall",
    "SentRequest",
    "SlackDriver",
    "SlackEmulator",
    "find_action",
    "sign",
    "signed_headers",
    "validate_message_blocks",
    "validate_view",
]
