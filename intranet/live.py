"""The live-update bus: publish(channel, data) / subscribe(channel), plus SSE and polling helpers.

Every channel has a version that grows by one per publication. Live regions are rendered whole by the
view that owns them, so an event only says "this channel changed"; the SSE helper re-renders the
region (coalescing bursts), and the polling helper turns the version into an ETag so that an
unchanged poll is answered 304 before any database query, user loading included.

In-process by default (one server process). With ``REDIS_URL`` the versions live in Redis and each
process holds one pub/sub connection that fans events out to its own subscribers, so an event
published by one worker reaches the streams held by every other.
"""
from __future__ import annotations

import hashlib
import json
import queue
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from flask import Flask, Response, current_app, request, session, stream_with_context

from .extensions import db


@dataclass(frozen=True)
class Event:
    channel: str
    version: int
    data: Any


class Subscription:
    """Events of one channel for one consumer; bounded so a stalled client cannot eat memory."""

    def __init__(self, bus: "_LocalFanout", channel: str, maxsize: int = 256):
        self.bus, self.channel = bus, channel
        self._queue: queue.Queue[Event] = queue.Queue(maxsize)

    def deliver(self, event: Event) -> None:
        try:
            self._queue.put_nowait(event)
        except queue.Full:  # the consumer re-renders the whole region anyway: keep the newest
            self.drain()
            self._queue.put_nowait(event)

    def get(self, timeout: float | None = None) -> Event | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def drain(self) -> list[Event]:
        events = []
        while True:
            try:
                events.append(self._queue.get_nowait())
            except queue.Empty:
                return events

    def close(self) -> None:
        self.bus._unsubscribe(self)

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _LocalFanout:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[str, set[Subscription]] = defaultdict(set)

    def subscribe(self, channel: str) -> Subscription:
        sub = Subscription(self, channel)
        with self._lock:
            self._subscribers[channel].add(sub)
        return sub

    def _unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            subs = self._subscribers.get(sub.channel)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subscribers[sub.channel]

    def _fan_out(self, event: Event) -> None:
        with self._lock:
            targets = list(self._subscribers.get(event.channel, ()))
        for sub in targets:
            sub.deliver(event)

    def subscriber_count(self) -> int:
        with self._lock:
            return sum(len(s) for s in self._subscribers.values())


class InProcessBus(_LocalFanout):
    backend = "inprocess"

    def __init__(self) -> None:
        super().__init__()
        self._versions: dict[str, int] = defaultdict(int)

    def publish(self, channel: str, data: Any = None) -> int:
        with self._lock:
            self._versions[channel] += 1
            version = self._versions[channel]
        self._fan_out(Event(channel, version, data))
        return version

    def version(self, channel: str) -> int:
        return self._versions.get(channel, 0)

    def status(self) -> dict:
        return {"backend": self.backend, "ok": True, "subscribers": self.subscriber_count()}


# INCR and PUBLISH in one atomic step, so subscribers see versions in order and none is skipped.
_PUBLISH_LUA = """
local v = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', ARGV[1], '{"v":' .. v .. ',"d":' .. ARGV[2] .. '}')
return v
"""


class RedisBus(_LocalFanout):
    backend = "redis"

    def __init__(self, url: str, prefix: str = "intranet:live") -> None:
        import redis

        super().__init__()
        self._redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2, health_check_interval=30)
        self._prefix = prefix
        self._publish = self._redis.register_script(_PUBLISH_LUA)
        self._versions: dict[str, int] = {}  # kept fresh by the listener while it is connected
        self._listener: threading.Thread | None = None
        self._listener_pid: int | None = None
        self._connected = threading.Event()

    def _key(self, channel: str) -> str:
        return f"{self._prefix}:v:{channel}"

    def _topic(self, channel: str) -> str:
        return f"{self._prefix}:c:{channel}"

    def publish(self, channel: str, data: Any = None) -> int:
        version = int(self._publish(keys=[self._key(channel)], args=[self._topic(channel), json.dumps(data)]))
        # This process's next poll must see its own write without waiting for the listener's echo.
        if self._connected.is_set() and version > self._versions.get(channel, 0):
            self._versions[channel] = version
        return version

    def version(self, channel: str) -> int:
        self._ensure_listener()
        if self._connected.is_set() and channel in self._versions:
            return self._versions[channel]
        version = int(self._redis.get(self._key(channel)) or 0)
        if self._connected.is_set():
            self._versions[channel] = max(version, self._versions.get(channel, 0))
        return version

    def subscribe(self, channel: str) -> Subscription:
        self._ensure_listener()
        return super().subscribe(channel)

    def _ensure_listener(self) -> None:
        import os

        # Started lazily and again after a fork: threads do not survive into gunicorn's workers.
        if self._listener is not None and self._listener_pid == os.getpid() and self._listener.is_alive():
            return
        with self._lock:
            started = self._listener is None or self._listener_pid != os.getpid() or not self._listener.is_alive()
            if started:
                self._listener_pid = os.getpid()
                self._listener = threading.Thread(target=self._listen, name="live-bus-redis", daemon=True)
                self._listener.start()
        if started:  # wait once for the first connection, not on every call while Redis is away
            self._connected.wait(timeout=2)

    def _listen(self) -> None:
        import redis

        topic_prefix = f"{self._prefix}:c:"
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.psubscribe(topic_prefix + "*")
                pubsub.get_message(timeout=1)  # the psubscribe confirmation
                self._versions.clear()  # anything cached before a reconnect may be stale
                self._connected.set()
                for message in pubsub.listen():
                    if message.get("type") != "pmessage":
                        continue
                    channel = message["channel"].decode()[len(topic_prefix):]
                    payload = json.loads(message["data"])
                    version = int(payload["v"])
                    if version > self._versions.get(channel, 0):
                        self._versions[channel] = version
                    self._fan_out(Event(channel, version, payload["d"]))
            except redis.RedisError:
                self._connected.clear()
                time.sleep(1)
            finally:
                pubsub.close()

    def status(self) -> dict:
        import redis

        try:
            ok = bool(self._redis.ping())
        except redis.RedisError:
            ok = False
        return {"backend": self.backend, "ok": ok, "subscribers": self.subscriber_count()}


Bus = InProcessBus | RedisBus


def init_app(app: Flask) -> None:
    url = app.config.get("REDIS_URL")
    prefix = app.config.get("LIVE_PREFIX", "intranet:live")
    app.extensions["intranet_live"] = RedisBus(url, prefix) if url else InProcessBus()
    # Registered first so an unchanged poll is answered before anything else touches the database.
    app.before_request_funcs.setdefault(None, []).insert(0, _answer_unchanged_poll)


def bus() -> Bus:
    return current_app.extensions["intranet_live"]


def publish(channel: str, data: Any = None) -> int:
    return bus().publish(channel, data)


# --- polling ----------------------------------------------------------------------------------------


def poll_view(channel_for: Callable[..., str]):
    """Mark a view as a live poll of ``channel_for(**view_args)``; the function must not touch the
    database. The view itself returns ``poll_response(channel, render)`` after its access checks."""

    def decorate(view):
        view._live_channel = channel_for
        return view

    return decorate


def _etag(channel: str, version: int) -> str:
    # Bound to the signed-in identity so one user's tag says nothing to another.
    who = session.get("_user_id", "")
    raw = f"{current_app.secret_key}|{who}|{channel}|{version}".encode()
    return hashlib.sha256(raw).hexdigest()[:32]


def _answer_unchanged_poll():
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    channel_for = getattr(view, "_live_channel", None)
    if channel_for is None or not request.if_none_match:
        return None
    channel = channel_for(**(request.view_args or {}))
    version = _version_or_none(channel)
    if version is None:  # the bus is unreachable: let the view render the region in full
        return None
    etag = _etag(channel, version)
    if request.if_none_match.contains(etag):
        response = Response(status=304)
        response.set_etag(etag)
        response.headers["Cache-Control"] = "no-cache, private"
        return response
    return None


def _version_or_none(channel: str) -> int | None:
    try:
        return bus().version(channel)
    except Exception:  # redis.RedisError and socket errors: polling degrades to full renders
        current_app.logger.warning("live bus unreachable; poll of %s rendered in full", channel)
        return None


def poll_response(channel: str, render: Callable[[], str]) -> Response:
    version = _version_or_none(channel)  # read before rendering: a change during render is not lost
    response = Response(render(), mimetype="text/html")
    if version is not None:
        response.set_etag(_etag(channel, version))
    response.headers["Cache-Control"] = "no-cache, private"
    return response


# --- server-sent events -----------------------------------------------------------------------------


def sse_response(channel: str, render: Callable[[], str], *, event: str = "update", min_interval: float = 1.0) -> Response:
    """Stream ``render()`` now and again after each change of ``channel``, at most once per
    ``min_interval`` seconds (a burst of votes becomes one update). Heartbeats keep proxies from
    closing the stream; after LIVE_STREAM_MAX_SECONDS the stream ends and the browser reconnects,
    which re-checks the user's rights."""
    app = current_app._get_current_object()
    heartbeat = float(app.config["LIVE_HEARTBEAT_SECONDS"])
    max_age = float(app.config.get("LIVE_STREAM_MAX_SECONDS", 300))
    the_bus = bus()
    last_seen = request.headers.get("Last-Event-ID")

    def frames() -> Iterator[str]:
        with the_bus.subscribe(channel) as sub:
            started = last_sent = time.monotonic()
            version = the_bus.version(channel)
            yield "retry: 3000\n\n"
            if last_seen != str(version):
                yield _frame(event, version, _render(render))
            while time.monotonic() - started < max_age:
                got = sub.get(timeout=heartbeat)
                if got is None:
                    yield ": keep-alive\n\n"
                    continue
                wait = min_interval - (time.monotonic() - last_sent)
                if wait > 0:
                    time.sleep(wait)
                newest = max([got, *sub.drain()], key=lambda e: e.version)
                last_sent = time.monotonic()
                yield _frame(event, newest.version, _render(render))

    response = Response(stream_with_context(frames()), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response


def _render(render: Callable[[], str]) -> str:
    try:
        return render()
    finally:
        # End the read transaction: the pooled connection goes back between frames, not at stream end.
        db.session.rollback()


def _frame(event: str, version: int, html: str) -> str:
    data = "\n".join(f"data: {line}" for line in html.splitlines() or [""])
    return f"id: {version}\nevent: {event}\n{data}\n\n"
