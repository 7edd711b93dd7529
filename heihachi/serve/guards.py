"""What stands in front of every request: body size, bearer tokens, rate limits, JSON errors.

Written as plain ASGI middleware (not per-route dependencies) so they hold for every
path, unknown ones included, and so an oversized body is refused while it streams in
rather than after it was read.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("heihachi.serve")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: paths that need no token: the explorer's files, the schema, the docs, liveness
OPEN_PATHS = ("/health", "/api/v1/health", "/openapi.json", "/docs", "/docs/oauth2-redirect")
#: multipart framing and form fields on top of the upload limit
FORM_OVERHEAD = 1 << 20


def error_body(status: int, message: str) -> bytes:
    return json.dumps({"error": _REASONS.get(status, "error"), "status": status,
                       "message": message}).encode()


_REASONS = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
            405: "method_not_allowed", 409: "conflict", 413: "too_large",
            415: "unsupported_media_type", 422: "invalid", 429: "rate_limited",
            500: "internal_error", 503: "busy"}


async def send_error(send: Send, status: int, message: str,
                     headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = error_body(status, message)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    """413 for a body over the limit: at once from Content-Length, else while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes + FORM_OVERHEAD
        self.mib = max_bytes // (1 << 20)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        try:
            declared = int(headers.get(b"content-length", b"0") or 0)
        except ValueError:
            return await send_error(send, 400, "Content-Length is not a number")
        message = f"request body larger than the server's limit of {self.mib} MiB " \
                  "(--max-upload-mb)"
        if declared > self.max_bytes:
            return await send_error(send, 413, message)
        seen = 0
        over = False  # the body passed the limit: whatever the app answers becomes a 413
        replaced = False

        async def counted() -> dict[str, Any]:
            nonlocal seen, over
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.max_bytes:
                    over = True
                    raise BodyTooLarge()
            return msg

        async def answer(msg: dict[str, Any]) -> None:
            # the form parser may catch BodyTooLarge and answer 400 itself: say 413 instead
            nonlocal replaced
            if over:
                if not replaced:
                    replaced = True
                    await send_error(send, 413, message)
                return
            await send(msg)

        try:
            await self.app(scope, counted, answer)
        except BodyTooLarge:
            if not replaced:
                await send_error(send, 413, message)


class TokenAuth:
    """Bearer tokens: none sent -> 401, a wrong one -> 403. Off when no key is set."""

    def __init__(self, app: ASGIApp, keys: list[str]) -> None:
        self.app = app
        self.keys = [k.encode() for k in keys]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.keys or not _needs_token(scope):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        auth = headers.get(b"authorization", b"")
        scheme, _, token = auth.partition(b" ")
        if not auth or scheme.lower() != b"bearer" or not token.strip():
            return await send_error(send, 401, "this server needs an API key: send "
                                    "'Authorization: Bearer KEY'",
                                    [(b"www-authenticate", b'Bearer realm="heihachi"')])
        if not any(hmac.compare_digest(token.strip(), k) for k in self.keys):
            return await send_error(send, 403, "the API key is not valid for this server")
        await self.app(scope, receive, send)


def _needs_token(scope: Scope) -> bool:
    path = scope.get("path", "")
    if scope.get("method") == "OPTIONS":  # CORS preflight carries no credentials
        return False
    return path.startswith("/api/") and path not in OPEN_PATHS


class RateLimit:
    """A token bucket per client (its bearer token, else its address): ``rate`` requests
    per second on average, ``burst`` at once; past that, 429 with Retry-After."""

    def __init__(self, app: ASGIApp, rate: float, burst: int) -> None:
        self.app = app
        self.rate = rate
        self.burst = float(burst)
        self.buckets: dict[bytes, tuple[float, float]] = {}
        self.lock = threading.Lock()

    def take(self, key: bytes, now: float | None = None) -> float:
        """0 if a request may go now, else the seconds until one may."""
        now = time.monotonic() if now is None else now
        with self.lock:
            tokens, last = self.buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self.buckets[key] = (tokens - 1.0, now)
                return 0.0
            self.buckets[key] = (tokens, now)
            if len(self.buckets) > 10_000:  # forget idle clients
                self.buckets = {k: v for k, v in self.buckets.items() if now - v[1] < 60}
            return (1.0 - tokens) / self.rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.rate <= 0 or not scope.get("path", "").startswith(
                "/api/") or scope.get("path") in OPEN_PATHS:
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        client = scope.get("client") or ("?", 0)
        key = headers.get(b"authorization") or str(client[0]).encode()
        wait = self.take(key)
        if wait > 0:
            return await send_error(send, 429, f"too many requests: at most {self.rate:g} per "
                                    f"second per client; retry in {wait:.1f} s",
                                    [(b"retry-after", str(max(1, round(wait + 0.5))).encode())])
        await self.app(scope, receive, send)


class QueueGate:
    """503 + Retry-After for an upload, before its body is read, while the queue is full
    or ``max_uploads`` uploads are already streaming in.

    Refusing early is the server's backpressure: a client that retries does not re-send
    megabytes only to be refused, and the uploads that are let in share the CPU with a few
    others rather than with every client at once (20 uploads received together each take
    20 times as long to accept; the total ingest rate is the same either way). Uploads in
    flight count against the queue bound too, so a burst cannot overfill the queue.
    """

    def __init__(self, app: ASGIApp, store: Any, max_queue: int, max_uploads: int = 0) -> None:
        self.app = app
        self.store = store
        self.max_queue = max_queue
        self.max_uploads = max_uploads  # 0: no limit on uploads received at once
        self.receiving = 0  # uploads being received now (one event loop: no lock needed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (scope["type"] == "http" and scope.get("method") == "POST"
                and scope.get("path", "").startswith("/api/") and self.store is not None):
            return await self.app(scope, receive, send)
        from starlette.concurrency import run_in_threadpool

        upload = _is_upload(scope)
        counts = await run_in_threadpool(self.store.counts)
        # no await between these checks and the increment: they are atomic in the loop
        if counts["queued"] + self.receiving >= self.max_queue:
            return await send_error(send, 503, f"the queue is full ({self.max_queue} jobs "
                                    "waiting); retry later", [(b"retry-after", b"1")])
        if upload and self.max_uploads and self.receiving >= self.max_uploads:
            return await send_error(send, 503, f"the server is receiving {self.receiving} "
                                    "uploads already (--max-uploads); retry in a second",
                                    [(b"retry-after", b"1")])
        self.receiving += upload
        try:
            await self.app(scope, receive, send)
        finally:
            self.receiving -= upload


def _is_upload(scope: Scope) -> bool:
    """A request that carries a file: a multipart body."""
    headers = dict(scope.get("headers") or [])
    return headers.get(b"content-type", b"").lower().startswith(b"multipart/")


class JsonErrors:
    """The last line: an exception nobody handled becomes a JSON 500, never a traceback
    (the traceback goes to the server's log)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def tracked(msg: dict[str, Any]) -> None:
            nonlocal started
            started = started or msg["type"] == "http.response.start"
            await send(msg)

        try:
            await self.app(scope, receive, tracked)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if not started:
                await send_error(send, 500, "internal error; the server's log has the details")
