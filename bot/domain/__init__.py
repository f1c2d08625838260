"""Mentoring rules as plain functions: no Slack, no clock (``now`` is an argument)."""
