"""Scheduling in one place: planning durable messages and delivering them when due.

APScheduler only decides *when* a pass runs (every minute in ``serve`` and
``worker``); ``mentor-bot tick --now`` runs the very same pass.
"""
