"""Thin Slack handlers, one module per kind, each with ``register(app)``.

A listener acks, loads, calls the domain, asks a builder for blocks, and makes
the Slack call; anything slow runs in ``deps.background`` after the ack.
"""
