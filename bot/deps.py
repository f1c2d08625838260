"""The bundle of services listeners receive through Bolt's context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.background import Background
from bot.config import Settings
from bot.content import Content
from bot.metrics import Metrics
from bot.store.db import Database

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Deps:
    """What listeners need, handed to them by name through Bolt's context."""

    settings: Settings
    content: Content
    db: Database
    clock: Clock = utc_now
    background: Background = field(default_factory=Background)
    # Wakes this process's sender loop once a use case has committed rows due now
    # (every message a request causes), so they leave at once. A no-op where no
    # sender loop runs: LocalApp delivers on drain(), a worker or tick picks them up.
    wake_scheduler: Callable[[], None] = lambda: None
    # This app instance's Prometheus metrics (GET /metrics), in a registry of its own.
    metrics: Metrics = field(default_factory=Metrics)

    @property
    def default_tip_minute(self) -> int:
        tip_time = self.content.settings.tip_time
        return tip_time.hour * 60 + tip_time.minute
