"""Use cases: one unit of work each, over a session and a ``now``; no Slack calls."""
