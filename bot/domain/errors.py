"""Errors whose message is written for the person in Slack.

Listeners do not catch these: the app's one error handler turns them into an
ephemeral message (or a modal error) and nothing is changed.
"""

from __future__ import annotations


class UserError(Exception):
    """Bad input or a refused action; ``str(err)`` says what to do instead."""


class NotAllowed(UserError):
    """The person acting may not act on the thing the request names."""


class NotFound(UserError):
    pass


class Conflict(UserError):
    """The request is valid but the state no longer allows it (already answered, …)."""


class TimesTaken(UserError):
    """Meeting times that clash with meetings already set, by their place in the form
    (0-based): answered inside the modal, against each time, with nothing saved."""

    def __init__(self, problems: dict[int, str]) -> None:
        super().__init__(next(iter(problems.values())))
        self.problems = problems
