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
import hmac
import json
import logging
import os
import queue
import random
import select
import socket
import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, request, session, stream_with_context
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session as OrmSession

from . import metrics
from .extensions import db
from .params import parse_int


@dataclass(frozen=True)
class Event:
    channel: str
    version: int
    data: Any


class Subscription:
    """Events of some channels for one consumer; bounded so a stalled client cannot eat memory."""

    def __init__(self, bus: _LocalFanout, channels: tuple[str, ...], maxsize: int = 256):
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

    def __enter__(self) -> Subscription:
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


class StreamSlots:
    """The open streams of this process, per user: a stream is refused past either cap, and the
    browser then polls (see ``sse_stream``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._per_user: dict[str, int] = defaultdict(int)
        self.total = 0

    def take(self, user: str, per_user: int, per_process: int) -> Callable[[], None] | None:
        """A slot and its release (safe to call twice), or None when a cap is reached."""
        with self._lock:
            if self.total >= per_process or self._per_user[user] >= per_user:
                return None
            self.total += 1
            self._per_user[user] += 1
        released = threading.Event()

        def release() -> None:
            with self._lock:
                if released.is_set():
                    return
                released.set()
                self.total -= 1
                self._per_user[user] -= 1
                if not self._per_user[user]:
                    del self._per_user[user]

        return release


class _LocalFanout:
    push_engine = None  # set by live_grip when Pushpin holds the streams (production)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[str, set[Subscription]] = defaultdict(set)
        self.renders = SharedRenders()
        self.streams = StreamSlots()

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

    def render_once(self, key: tuple, render: Callable[[], str]) -> str:
        """One process: the process's own SharedRenders already make each key once."""
        return render()

    def status(self) -> dict:
        return {
            "backend": self.backend,
            "ok": True,
            "subscribers": self.subscriber_count(),
            "streams": self.streams.total,
        }


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

    # How long a shared render stays in Redis: its key names a version, so it is never stale, and it is
    # wanted only until the channel's next change has gone out (20 meetings' queues changing every
    # second keep ~20 × 20 renders of ~30 KB).
    RENDER_SECONDS = 20
    RENDER_WAIT_SECONDS = 10  # how long another process's render is waited for before making our own

    def render_once(self, key: tuple, render: Callable[[], str]) -> str:
        """A shared render made once for every process of every app server: the first process to claim
        the key renders and stores it in Redis; the others wait for it and take it from there. While
        Redis is away, or when the claiming process's render fails, a process renders for itself
        (still correct, only dearer)."""
        import redis

        name = f"{self._prefix}:r:{hashlib.sha256(repr(key).encode()).hexdigest()[:32]}"
        claim = name + ":claim"
        try:
            html = self._redis.get(name)
            claimed = html is None and self._redis.set(claim, os.getpid(), nx=True, ex=self.RENDER_WAIT_SECONDS)
        except redis.RedisError:
            return render()
        if html is not None:
            return html.decode()
        if not claimed:
            return self._rendered_elsewhere(name, claim) or render()
        try:
            html = render()
            self._redis.set(name, html, ex=self.RENDER_SECONDS)
        except redis.RedisError:
            pass
        finally:  # the waiting processes see the render, or that there will be none
            with suppress(redis.RedisError):
                self._redis.delete(claim)
        return html

    def _rendered_elsewhere(self, name: str, claim: str) -> str | None:
        """The render another process claimed, once stored; None if it gave up or Redis went away."""
        import redis

        deadline = time.monotonic() + self.RENDER_WAIT_SECONDS
        try:
            while time.monotonic() < deadline:
                time.sleep(0.005)
                html, claimed = self._redis.pipeline().get(name).exists(claim).execute()
                if html is not None:
                    return html.decode()
                if not claimed:
                    return None
        except redis.RedisError:
            pass
        return None

    def _ensure_listener(self) -> None:
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
                    channel = message["channel"].decode()[len(topic_prefix) :]
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
        return {
            "backend": self.backend,
            "ok": ok,
            "subscribers": self.subscriber_count(),
            "streams": self.streams.total,
        }


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


def rights_changed(*, office_id: int | None = None, user_id: int | None = None) -> None:
    """What someone may see changes in this transaction: a plugin switched or a permission grant changed
    in an office, or a user's role revoked, account deactivated or office changed. Once it commits,
    SWITCHES is published — every in-process stream ends within LIVE_RECHECK_SPREAD_SECONDS and no
    poll's tag outlives it — and the push engine ends, within the same bound, the streams Pushpin holds
    for that office or user (``live_grip``): every browser's reconnection is checked afresh."""
    publish_on_commit(SWITCHES)
    scopes = db.session.info.setdefault("live_rights", set())
    if office_id is not None:
        scopes.add(f"office:{office_id}")
    if user_id is not None:
        scopes.add(f"user:{user_id}")


@sa_event.listens_for(OrmSession, "after_commit")
def _publish_committed(orm_session) -> None:
    pending, scopes = orm_session.info.pop("live_pending", {}), orm_session.info.pop("live_rights", set())
    for channel, (the_bus, prompt) in pending.items():
        try:
            the_bus.publish(channel, PROMPT if prompt else None)
            if the_bus.push_engine is not None:
                the_bus.push_engine.announce(channel, prompt)
        except Exception:  # the change is saved; live clients catch up at their next reconnect or poll
            logging.getLogger(__name__).warning("live bus unreachable; %s not announced", channel)
    engine = pending[SWITCHES][0].push_engine if scopes else None
    if engine is not None:  # Pushpin's streams do not hear SWITCHES: the engine closes them
        engine.end_holds(scopes)


@sa_event.listens_for(OrmSession, "after_rollback")
def _forget_rolled_back(orm_session) -> None:
    orm_session.info.pop("live_pending", None)
    orm_session.info.pop("live_rights", None)


# --- polling ----------------------------------------------------------------------------------------


def poll_view(channel_for: Callable[..., str | tuple[str, ...]]):
    """Mark a view as a live poll of ``channel_for(**view_args)`` — one channel, or a page's channels
    in the order of its regions; the function must not touch the database. The view itself returns
    ``poll_regions`` after its access checks (plugins get such views from ``intranet.live_regions``)."""

    def decorate(view):
        view._live_channel = channel_for
        return view

    return decorate


SWITCHES = "plugin-switches"  # published when any office switches a plugin or changes a permission grant


def _etag(channels: tuple[str, ...], versions: list[int], switches: int) -> str:
    """The versions a poll answered, and a MAC binding them to the channels, the signed-in identity (one
    user's tag says nothing to another) and the plugin switches (the 304 answers before the plugin gate,
    so a tag must not outlive a switch): a page poll reads back which regions the browser has."""
    who = session.get("_user_id", "")
    listed = ".".join(map(str, versions))
    signed = f"{who}|{'|'.join(channels)}|{listed}|{switches}".encode()
    mac = hmac.new(str(current_app.secret_key).encode(), signed, hashlib.sha256)
    return f"{listed}-{mac.hexdigest()[:24]}"


def _channels(named: str | tuple[str, ...]) -> tuple[str, ...]:
    return (named,) if isinstance(named, str) else tuple(named)


def _answer_unchanged_poll():
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    channel_for = getattr(view, "_live_channel", None)
    if channel_for is None or not request.if_none_match:
        return None
    channels = _channels(channel_for(**(request.view_args or {})))
    versions = [version_or_none(channel) for channel in channels]
    switches = version_or_none(SWITCHES)
    if None in versions or switches is None:  # the bus is unreachable: let the view render in full
        return None
    etag = _etag(channels, versions, switches)
    if request.if_none_match.contains(etag):
        metrics.POLLS_UNCHANGED.inc()
        response = Response(status=304)
        response.set_etag(etag)
        response.headers["Cache-Control"] = "no-cache, private"
        return response
    return None


_WARNED_AT = [float("-inf")]  # the last "bus unreachable" warning: one a minute, not one per poll


def version_or_none(channel: str) -> int | None:
    """The channel's version, or None while the bus (Redis) is unreachable: callers then render in full."""
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


def render_region(region: Region, version: int | None) -> str:
    """The region's HTML at ``version`` of its channel: for a shared region, made once per (channel,
    version, variant, language) — once in all, with Redis as the bus, for every process — and reused
    by every page, stream, poll or push that needs it. A shared render keeps TOKEN_SLOT in its forms'
    token fields (see ``with_token``)."""
    if region.share is None or version is None:
        return region.render()
    the_bus, key = bus(), _render_key(region, version)
    return the_bus.renders.get(key, lambda: the_bus.render_once(key, region.render))


# Stands for the viewer's CSRF token in a shared render's forms: a page's first render puts the viewer's
# token there (for a browser without scripts), frames leave it empty (htmx sends the token in a header).
# The attribute's quotes cannot come from escaped user text, so only the templates' token fields match.
TOKEN_SLOT = "csrf-slot"
_SLOTTED = f'name="csrf_token" value="{TOKEN_SLOT}"'


def with_token(html: str, token: str) -> str:
    """A shared render with ``token`` in its forms' token fields."""
    return html.replace(_SLOTTED, f'name="csrf_token" value="{token}"')


def _render_key(region: Region, version: int) -> tuple:
    return region.channel, version, region.event, region.share, str(get_locale())


def frame(regions: list[Region], versions: list[int | None], index: int) -> str:
    """One region as a server-sent event: ``id`` lists the versions of all the page's regions (what a
    reconnecting browser sends back), ``event`` names the region, ``data`` is its HTML (for a shared
    region, turned into event lines once per render too). The read transaction ends after the render."""
    region, version = regions[index], versions[index]

    def lines() -> str:
        html = with_token(render_region(region, version), "")
        return "\n".join(f"data: {line}" for line in html.splitlines() or [""])

    shared = region.share is not None and version is not None
    data = _end_transaction(
        lambda: bus().renders.get((*_render_key(region, version), "data"), lines) if shared else lines()
    )
    ids = ".".join("0" if v is None else str(v) for v in versions)
    return f"id: {ids}\nevent: {region.event}\n{data}\n\n"


def poll_regions(regions: list[Region]) -> Response:
    """A poll of all the live regions of a page in one request: the regions whose channel changed
    since the versions named by the browser's ``If-None-Match`` (all of them without a valid tag),
    as server-sent-event frames in one body (``text/event-stream`` syntax, read by live.js). Unchanged,
    the ``before_request`` hook has already answered 304 without the database."""
    channels = tuple(r.channel for r in regions)
    versions = [version_or_none(r.channel) for r in regions]  # before rendering: no change is lost
    switches = version_or_none(SWITCHES)
    known = _versions_in_tag(channels, switches)
    body = "".join(
        frame(regions, versions, i)
        for i in range(len(regions))
        if known is None or versions[i] is None or known[i] != versions[i]
    )
    response = Response(body, mimetype="text/plain")
    if None not in versions and switches is not None:
        response.set_etag(_etag(channels, versions, switches))
    response.headers["Cache-Control"] = "no-cache, private"
    return response


def _versions_in_tag(channels: tuple[str, ...], switches: int | None) -> list[int] | None:
    """The versions the browser has, from its tag — only if this app made that tag for this user
    since the last plugin switch."""
    for tag in request.if_none_match.as_set() if request.if_none_match and switches is not None else ():
        versions = [parse_int(part) for part in tag.partition("-")[0].split(".")]
        if len(versions) == len(channels) and None not in versions:
            if hmac.compare_digest(_etag(channels, versions, switches), tag):
                return versions
    return None


# --- server-sent events -----------------------------------------------------------------------------


CLIENT_CHECK_SECONDS = 1.0  # how often a waiting stream looks whether its browser has gone


def sse_stream(regions: list[Region], *, min_interval: float = 1.0) -> Response:
    """Stream each region now and again after each change of its channel, at most once per
    ``min_interval`` seconds per region (a burst of votes becomes one update) — or after
    PROMPT_INTERVAL for a change published as ``PROMPT`` (a new question). One stream carries all
    the live regions of a page, so a browser holds one connection, not one per region. The event id
    lists the versions sent, so a reconnecting browser (``Last-Event-ID``, or the page's own ``since``
    on the first connection) is sent only what changed; a ``ready`` event opens every stream.
    Heartbeats keep proxies from closing the stream; after LIVE_STREAM_MAX_SECONDS, or within
    LIVE_RECHECK_SPREAD_SECONDS of a plugin switch or a change of rights (SWITCHES), the stream ends and
    the browser reconnects, which re-checks the user's rights. A stream past the caps
    (LIVE_STREAMS_PER_USER, LIVE_STREAMS_PER_PROCESS) is refused with 429 and the page polls instead;
    a stream whose browser has gone ends within CLIENT_CHECK_SECONDS and frees its slot."""
    if any(version_or_none(region.channel) is None for region in regions):
        return _stream_unavailable()
    engine = bus().push_engine
    if engine is not None and engine.takes_stream():  # production: Pushpin holds the stream
        return engine.hold(regions)
    app = current_app._get_current_object()
    heartbeat = float(app.config["LIVE_HEARTBEAT_SECONDS"])
    max_age = float(app.config.get("LIVE_STREAM_MAX_SECONDS", 300))
    spread = float(app.config["LIVE_RECHECK_SPREAD_SECONDS"])
    the_bus = bus()
    release = the_bus.streams.take(
        str(session.get("_user_id", "")),
        int(app.config["LIVE_STREAMS_PER_USER"]),
        int(app.config["LIVE_STREAMS_PER_PROCESS"]),
    )
    if release is None:
        response = Response(
            _("Too many live pages open: this one is updated every few seconds instead."),
            status=429,
            mimetype="text/plain",
        )
        response.headers["Retry-After"] = "60"
        return response
    client = request.environ.get("gunicorn.socket") or request.environ.get("werkzeug.socket")
    seen = _parse_event_id(request.headers.get("Last-Event-ID") or request.args.get("since"), len(regions))
    by_channel: dict[str, list[int]] = defaultdict(list)
    for i, region in enumerate(regions):
        by_channel[region.channel].append(i)

    def frames() -> Iterator[str]:
        with the_bus.subscribe(*by_channel, SWITCHES) as sub:
            started = checked = last_write = time.monotonic()
            rights = the_bus.version(SWITCHES)
            ends_at = started + max_age  # sooner once a plugin switch or a change of rights is published
            sent: list[int | None] = [the_bus.version(r.channel) for r in regions]
            last_sent = [float("-inf")] * len(regions)
            pending: dict[int, int] = {}  # region index -> newest version not yet sent
            prompt: set[int] = set()  # regions whose pending change is one people wait for
            yield "retry: 3000\n\nevent: ready\ndata: \n\n"
            for i in range(len(regions)):
                if seen[i] != sent[i]:
                    last_sent[i] = time.monotonic()
                    yield frame(regions, sent, i)
            while True:
                now = time.monotonic()
                if now - checked >= CLIENT_CHECK_SECONDS:
                    checked = now
                    if _client_gone(client):
                        return
                due = [last_sent[i] + _interval(i in prompt, min_interval) - now for i in pending]
                wait = min([*due, last_write + heartbeat - now, checked + CLIENT_CHECK_SECONDS - now, ends_at - now])
                got = sub.get(timeout=max(0.0, wait))
                for event in [got, *sub.drain()] if got is not None else []:
                    if event.channel == SWITCHES and event.version > rights:
                        ends_at = min(ends_at, time.monotonic() + random.uniform(0, spread))
                    for i in by_channel.get(event.channel, ()):
                        if event.version > max(pending.get(i, 0), sent[i] or 0):
                            pending[i] = event.version
                            if event.data == PROMPT:
                                prompt.add(i)
                now = time.monotonic()
                if now >= ends_at:  # before sending what arrived with the switch: it may be beyond the rights
                    return  # the browser reconnects: its user's rights are checked again
                for i in [i for i in pending if now - last_sent[i] >= _interval(i in prompt, min_interval)]:
                    sent[i], last_sent[i] = pending.pop(i), now
                    prompt.discard(i)
                    last_write = now
                    yield frame(regions, sent, i)
                if now - last_write >= heartbeat:
                    if version_or_none(regions[0].channel) is None:
                        return  # the bus went away: the browser reconnects, is answered 503 and polls
                    last_write = now
                    yield ": keep-alive\n\n"

    def stream() -> Iterator[str]:
        try:
            yield from frames()
        finally:
            release()

    response = Response(stream_with_context(stream()), mimetype="text/event-stream")
    response.call_on_close(release)  # also when the server closes a stream it never started
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response


STREAM_RETRY_SECONDS = 30


def _stream_unavailable() -> Response:
    """The bus is away (Redis down): no stream could see a change. A 503 closes the browser's
    EventSource, which live.js takes as "poll now" (polls render in full without the bus) and tries
    the stream again after Retry-After."""
    message = _("Live updates are paused; this page refreshes itself every few seconds.")
    return Response(
        message,
        status=503,
        mimetype="text/plain",
        headers={"Retry-After": str(STREAM_RETRY_SECONDS), "Cache-Control": "no-store"},
    )


def _client_gone(client: socket.socket | None) -> bool:
    """Whether the browser closed the connection (readable with nothing to read: end of file). Under
    gunicorn and Werkzeug's server, which hand the socket over; elsewhere a stream ends at its next
    failed write."""
    if client is None:
        return False
    try:
        poller = select.poll()
        poller.register(client, select.POLLIN)
        if not poller.poll(0):
            return False
        return client.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


PROMPT_INTERVAL = 0.1  # even prompt changes: at most ten frames a second per region


def _interval(prompt: bool, min_interval: float) -> float:
    return min(PROMPT_INTERVAL, min_interval) if prompt else min_interval


def _parse_event_id(raw: str | None, count: int) -> list[int | None]:
    values = [parse_int(p) for p in (raw or "").split(".")]
    if len(values) != count or None in values:
        return [None] * count
    return values


def _end_transaction(render: Callable[[], str]) -> str:
    try:
        return render()
    finally:
        # End the read transaction: the pooled connection goes back between frames, not at stream end.
        db.session.rollback()
