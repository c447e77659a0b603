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
import logging
import queue
import threading
import time
from collections import OrderedDict, defaultdict
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from flask import Flask, Response, current_app, request, session, stream_with_context
from flask_babel import get_locale, gettext as _
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session as OrmSession

from . import metrics
from .extensions import db


@dataclass(frozen=True)
class Event:
    channel: str
    version: int
    data: Any


class Subscription:
    """Events of some channels for one consumer; bounded so a stalled client cannot eat memory."""

    def __init__(self, bus: "_LocalFanout", channels: tuple[str, ...], maxsize: int = 256):
        self.bus, self.channels = bus, channels
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


class SharedRenders:
    """Region renders that many clients would make alike, kept per (channel, version, variant, locale):
    when an event reaches 300 open streams, the region is rendered once per variant, not 300 times.
    Concurrent callers of a missing key wait for the first one's render instead of repeating it."""

    def __init__(self, size: int = 512) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._done: OrderedDict[tuple, str] = OrderedDict()
        self._running: dict[tuple, threading.Event] = {}

    def get(self, key: tuple, render: Callable[[], str]) -> str:
        with self._lock:
            if key in self._done:
                self._done.move_to_end(key)
                return self._done[key]
            running = self._running.get(key)
            if running is None:
                self._running[key] = threading.Event()
        if running is not None:
            running.wait(timeout=10)
            with self._lock:
                if key in self._done:
                    return self._done[key]
            return render()  # the first render failed or hung: do our own
        try:
            html = render()
            with self._lock:
                self._done[key] = html
                while len(self._done) > self._size:
                    self._done.popitem(last=False)
            return html
        finally:
            with self._lock:
                self._running.pop(key).set()


class _LocalFanout:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[str, set[Subscription]] = defaultdict(set)
        self.renders = SharedRenders()

    def subscribe(self, *channels: str) -> Subscription:
        sub = Subscription(self, channels)
        with self._lock:
            for channel in channels:
                self._subscribers[channel].add(sub)
        return sub

    def _unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            for channel in sub.channels:
                subs = self._subscribers.get(channel)
                if subs is not None:
                    subs.discard(sub)
                    if not subs:
                        del self._subscribers[channel]

    def _fan_out(self, event: Event) -> None:
        with self._lock:
            targets = list(self._subscribers.get(event.channel, ()))
        for sub in targets:
            sub.deliver(event)

    def subscriber_count(self) -> int:
        with self._lock:
            return len({sub for subs in self._subscribers.values() for sub in subs})


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
        metrics.EVENTS_PUBLISHED.inc()
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
        metrics.EVENTS_PUBLISHED.inc()
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

    def subscribe(self, *channels: str) -> Subscription:
        self._ensure_listener()
        return super().subscribe(*channels)

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


PROMPT = {"prompt": True}  # event data: send this change without the coalescing delay


def publish_on_commit(*channels: str, prompt: bool = False) -> None:
    """Announce ``channels`` once the current transaction commits (a reader woken by the event must
    find the change); nothing is announced if it rolls back. Repeats within one transaction merge.
    ``prompt`` marks a change people wait for (a new question), which streams send at once instead of
    coalescing it with a burst of minor ones (votes)."""
    pending = db.session.info.setdefault("live_pending", {})
    for channel in channels:
        the_bus, was_prompt = pending.get(channel, (bus(), False))
        pending[channel] = (the_bus, was_prompt or prompt)


@sa_event.listens_for(OrmSession, "after_commit")
def _publish_committed(orm_session) -> None:
    for channel, (the_bus, prompt) in orm_session.info.pop("live_pending", {}).items():
        try:
            the_bus.publish(channel, PROMPT if prompt else None)
        except Exception:  # the change is saved; live clients catch up at their next reconnect or poll
            logging.getLogger(__name__).warning("live bus unreachable; %s not announced", channel)


@sa_event.listens_for(OrmSession, "after_rollback")
def _forget_rolled_back(orm_session) -> None:
    orm_session.info.pop("live_pending", None)


# --- polling ----------------------------------------------------------------------------------------


def poll_view(channel_for: Callable[..., str]):
    """Mark a view as a live poll of ``channel_for(**view_args)``; the function must not touch the
    database. The view itself returns ``poll_response(channel, render)`` after its access checks."""

    def decorate(view):
        view._live_channel = channel_for
        return view

    return decorate


SWITCHES = "plugin-switches"  # published when any office switches a plugin on or off


def _etag(channel: str, version: int, switches: int) -> str:
    # Bound to the signed-in identity so one user's tag says nothing to another, and to the plugin
    # switches: the 304 below answers before the plugin gate, so a tag must not outlive a switch.
    who = session.get("_user_id", "")
    raw = f"{current_app.secret_key}|{who}|{channel}|{version}|{switches}".encode()
    return hashlib.sha256(raw).hexdigest()[:32]


def _answer_unchanged_poll():
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    channel_for = getattr(view, "_live_channel", None)
    if channel_for is None or not request.if_none_match:
        return None
    channel = channel_for(**(request.view_args or {}))
    version, switches = _version_or_none(channel), _version_or_none(SWITCHES)
    if version is None or switches is None:  # the bus is unreachable: let the view render in full
        return None
    etag = _etag(channel, version, switches)
    if request.if_none_match.contains(etag):
        metrics.POLLS_UNCHANGED.inc()
        response = Response(status=304)
        response.set_etag(etag)
        response.headers["Cache-Control"] = "no-cache, private"
        return response
    return None


_WARNED_AT = [float("-inf")]  # the last "bus unreachable" warning: one a minute, not one per poll


def _version_or_none(channel: str) -> int | None:
    try:
        return bus().version(channel)
    except Exception:  # redis.RedisError and socket errors: polling degrades to full renders
        if time.monotonic() - _WARNED_AT[0] >= 60:
            _WARNED_AT[0] = time.monotonic()
            current_app.logger.warning("live bus unreachable (%s): polls render in full, streams answer 503", channel)
        return None


@dataclass(frozen=True)
class Region:
    """A live region of a page: the SSE event (and poll) name, the bus channel whose changes re-render
    it, its renderer, and — when every viewer allowed to see this variant gets the same HTML —
    ``share``, the variant's name, so the render is made once per change (see SharedRenders)."""
    event: str
    channel: str
    render: Callable[[], str]
    share: str | None = None


def _render_region(region: Region, version: int | None) -> str:
    if region.share is None or version is None:
        return region.render()
    key = (region.channel, version, region.event, region.share, str(get_locale()))
    return bus().renders.get(key, region.render)


def poll_response(channel: str, render: Callable[[], str], *, share: str | None = None) -> Response:
    version = _version_or_none(channel)  # read before rendering: a change during render is not lost
    switches = _version_or_none(SWITCHES)
    html = _end_transaction(lambda: _render_region(Region("poll", channel, render, share), version))
    response = Response(html, mimetype="text/html")
    if version is not None and switches is not None:
        response.set_etag(_etag(channel, version, switches))
    response.headers["Cache-Control"] = "no-cache, private"
    return response


# --- server-sent events -----------------------------------------------------------------------------


def sse_response(channel: str, render: Callable[[], str], *, event: str = "update", min_interval: float = 1.0) -> Response:
    """One region on its own stream; see ``sse_stream``."""
    return sse_stream([Region(event, channel, render)], min_interval=min_interval)


def sse_stream(regions: list[Region], *, min_interval: float = 1.0) -> Response:
    """Stream each region now and again after each change of its channel, at most once per
    ``min_interval`` seconds per region (a burst of votes becomes one update) — or after
    PROMPT_INTERVAL for a change published as ``PROMPT`` (a new question). One stream carries all
    the live regions of a page, so a browser holds one connection, not one per region. The event id
    lists the versions sent, so a reconnecting browser (``Last-Event-ID``) is sent only what changed.
    Heartbeats keep proxies from closing the stream; after LIVE_STREAM_MAX_SECONDS the stream ends
    and the browser reconnects, which re-checks the user's rights."""
    if any(_version_or_none(region.channel) is None for region in regions):
        return _stream_unavailable()
    app = current_app._get_current_object()
    heartbeat = float(app.config["LIVE_HEARTBEAT_SECONDS"])
    max_age = float(app.config.get("LIVE_STREAM_MAX_SECONDS", 300))
    the_bus = bus()
    seen = _parse_event_id(request.headers.get("Last-Event-ID"), len(regions))
    by_channel: dict[str, list[int]] = defaultdict(list)
    for i, region in enumerate(regions):
        by_channel[region.channel].append(i)

    def frames() -> Iterator[str]:
        with the_bus.subscribe(*by_channel) as sub:
            started = time.monotonic()
            sent = [the_bus.version(r.channel) for r in regions]
            last_sent = [float("-inf")] * len(regions)
            pending: dict[int, int] = {}  # region index -> newest version not yet sent
            prompt: set[int] = set()  # regions whose pending change is one people wait for
            yield "retry: 3000\n\n"
            for i, region in enumerate(regions):
                if seen[i] != sent[i]:
                    last_sent[i] = time.monotonic()
                    yield _frame(region, sent, i)
            while time.monotonic() - started < max_age:
                now = time.monotonic()
                due = [last_sent[i] + _interval(i in prompt, min_interval) - now for i in pending]
                got = sub.get(timeout=max(0.0, min(due)) if due else heartbeat)
                if got is None and not pending:
                    if _version_or_none(regions[0].channel) is None:
                        return  # the bus went away: the browser reconnects, is answered 503 and polls
                    yield ": keep-alive\n\n"
                    continue
                for event in ([got, *sub.drain()] if got is not None else []):
                    for i in by_channel.get(event.channel, ()):
                        if event.version > max(pending.get(i, 0), sent[i]):
                            pending[i] = event.version
                            if event.data == PROMPT:
                                prompt.add(i)
                now = time.monotonic()
                for i in [i for i in pending if now - last_sent[i] >= _interval(i in prompt, min_interval)]:
                    sent[i], last_sent[i] = pending.pop(i), now
                    prompt.discard(i)
                    yield _frame(regions[i], sent, i)

    response = Response(stream_with_context(frames()), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response


STREAM_RETRY_SECONDS = 30


def _stream_unavailable() -> Response:
    """The bus is away (Redis down): no stream could see a change. A 503 closes the browser's
    EventSource, which live.js takes as "poll now" (polls render in full without the bus) and tries
    the stream again after Retry-After."""
    message = _("Live updates are paused; this page refreshes itself every few seconds.")
    return Response(message, status=503, mimetype="text/plain",
                    headers={"Retry-After": str(STREAM_RETRY_SECONDS), "Cache-Control": "no-store"})


PROMPT_INTERVAL = 0.1  # even prompt changes: at most ten frames a second per region


def _interval(prompt: bool, min_interval: float) -> float:
    return min(PROMPT_INTERVAL, min_interval) if prompt else min_interval


def _parse_event_id(raw: str | None, count: int) -> list[int | None]:
    parts = (raw or "").split(".")
    if len(parts) != count or not all(p.isdigit() for p in parts):
        return [None] * count
    return [int(p) for p in parts]


def _end_transaction(render: Callable[[], str]) -> str:
    try:
        return render()
    finally:
        # End the read transaction: the pooled connection goes back between frames, not at stream end.
        db.session.rollback()


def _frame(region: Region, versions: list[int], index: int) -> str:
    html = _end_transaction(lambda: _render_region(region, versions[index]))
    data = "\n".join(f"data: {line}" for line in html.splitlines() or [""])
    return f"id: {'.'.join(map(str, versions))}\nevent: {region.event}\n{data}\n\n"
