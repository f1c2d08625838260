"""Slack request signing (v0), as Slack signs requests to an app's request URL."""

from __future__ import annotations

import hashlib
import hmac
import time

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def sign(secret: str, body: bytes | str, timestamp: int) -> str:
    """The ``X-Slack-Signature`` value for ``body`` sent at ``timestamp``."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    base = b"v0:" + str(int(timestamp)).encode() + b":" + body
    digest = hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    return f"v0={digest}"


def signed_headers(
    secret: str,
    body: bytes | str,
    *,
    timestamp: int | None = None,
    retry_num: int | None = None,
    retry_reason: str | None = None,
    content_type: str = FORM,
) -> dict[str, str]:
    """Headers Slack sends with ``body``: content type, timestamp, signature, retries."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": sign(secret, body, ts),
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    }
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
    return headers


__all__ = ["sign", "signed_headers", "FORM", "JSON"]
