"""Slack calls over kept-alive connections.

slack_sdk's sync clients open a new TCP connection (``urlopen``) for every call and
close it after: in ``bench/pairs_setup.py`` connecting was about half of each call's
time in the sender. Here the sender's clients (``WebClient`` for methods,
``WebhookClient`` for response_urls) send through one ``urllib3.PoolManager``, which
is thread-safe and keeps connections open between calls.

Everything else stays slack_sdk's own (request building, retry handlers, parsing,
errors): only the hook that performs one HTTP request is replaced, and it answers as
``urlopen`` does, so slack_sdk cannot tell the difference: an ``HTTPError`` for a 4xx
or 5xx (a 429's Retry-After in its headers), a ``URLError`` for a connection that
failed (which ``ConnectionErrorRetryHandler`` retries), a ``TimeoutError`` for an
answer that did not come in time (not retried: Slack may be acting on it). A proxy or
a custom SSL context, which the bot never sets, goes the original way.
"""

from __future__ import annotations

import io
from http.client import HTTPMessage
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.request import Request

import urllib3
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient, WebhookResponse

# Connections kept per host: one per delivery thread is enough (more are opened when
# needed and closed after).
POOL_SIZE = 16


def connection_pool() -> urllib3.PoolManager:
    # No retries or redirects here: slack_sdk's retry handlers decide, as with urllib.
    return urllib3.PoolManager(maxsize=POOL_SIZE, retries=False)


def _send(
    pool: urllib3.PoolManager, url: str, req: Request, timeout: float
) -> tuple[int, HTTPMessage, bytes]:
    try:
        response = pool.request(
            req.get_method(),
            url,
            body=req.data,  # type: ignore[arg-type]
            headers=dict(req.header_items()),
            timeout=urllib3.Timeout(total=timeout),
            redirect=False,
            preload_content=True,
        )
    except urllib3.exceptions.ReadTimeoutError as error:
        # As urlopen: a bare timeout, which slack_sdk's ConnectionErrorRetryHandler does
        # not retry (Slack may be acting on the request; a second try could repeat it).
        raise TimeoutError(str(error)) from None
    except urllib3.exceptions.HTTPError as error:
        # Could not connect, or the connection broke: retried as urlopen's URLError is.
        raise URLError(error) from None
    headers = HTTPMessage()
    for name, value in response.headers.items():
        headers[name] = value
    if response.status >= 400:
        raise HTTPError(
            url, response.status, response.reason or "", headers, io.BytesIO(response.data)
        )
    return response.status, headers, response.data


class PooledWebClient(WebClient):
    def __init__(self, *args: Any, pool: urllib3.PoolManager, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pool = pool

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        if self.proxy is not None or self.ssl is not None or not url.lower().startswith("http"):
            return super()._perform_urllib_http_request_internal(url, req)
        status, headers, data = _send(self._pool, url, req, self.timeout)
        if headers.get_content_type() == "application/gzip":
            return {"status": status, "headers": headers, "body": data}
        charset = headers.get_content_charset() or "utf-8"
        return {"status": status, "headers": headers, "body": data.decode(charset)}


class PooledWebhookClient(WebhookClient):
    def __init__(self, *args: Any, pool: urllib3.PoolManager, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pool = pool

    def _perform_http_request_internal(self, url: str, req: Request) -> WebhookResponse:
        if self.proxy is not None or self.ssl is not None or not url.lower().startswith("http"):
            return super()._perform_http_request_internal(url, req)
        status, headers, data = _send(self._pool, url, req, self.timeout)
        charset = headers.get_content_charset() or "utf-8"
        return WebhookResponse(
            url=url,
            status_code=status,
            body=data.decode(charset),
            headers=headers,  # type: ignore[arg-type]
        )
