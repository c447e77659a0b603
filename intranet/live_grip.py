"""Live streams held by Pushpin (GRIP) instead of by the app's own processes.

Production puts Pushpin in front of the stream URLs. Pushpin forwards the browser's first request to
the app with a ``Grip-Sig`` header signed with the shared key (``PUSHPIN_SIG_KEY``); the stream view
checks the user's rights exactly as for an in-process stream, and ``hold`` answers with the initial
frames plus GRIP hold instructions naming the Pushpin channels of the page's regions. Pushpin then
keeps the connection open: no app thread or process holds it. Pushpin only subscribes a connection
to channels the app granted, so a refused view (another office, signed out, plugin off) holds
nothing.

After a commit, ``announce`` hands the changed bus channel to this process's publisher thread, which
renders each granted variant of a shared region ONCE (same render cache as in-process streams) and
publishes the SSE frame to every Pushpin control URL (``PUSHPIN_PUBLISH_URLS``, Pushpin's HTTP
publish API); Pushpin fans it out to every connection on that channel. A region that differs per
user (``share`` is None) is not rendered by the publisher: its channel gets a small ``changed`` event
naming the region, and that one browser fetches the region through its poll URL.

The publisher learns how to render a variant from the grant itself: a "recipe" (the stream URL and
the user it was granted to) kept per bus channel in Redis (or in memory when there is no Redis, i.e.
one app process). It replays the stream view as that user in a request context, with every check the
view makes, and renders only the region asked for. A grant refreshes its recipe, so the newest
authorised viewer's rights are the ones the render runs under.

A held stream does not outlive the rights it was granted with. Every hold also joins a channel of its
office (the one the plugin gate checked, and the user's own) and one of its user, in one of
RIGHTS_BUCKETS drawn at random; after a plugin switch, a grant change, a role revoked, an account
moved or deactivated (``live.rights_changed``), ``end_holds`` publishes GRIP's ``close`` action on the
channels concerned, each bucket at a random moment within LIVE_RECHECK_SPREAD_SECONDS (the bound of
in-process streams; the reconnections do not all arrive at once). The browser reconnects through
Pushpin and the app checks it afresh: refused (403, 404, sign-in) or held under the new rights.
Other offices' streams go on.
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
import urllib.request
from contextlib import nullcontext
from typing import TYPE_CHECKING

from flask import Flask, Response, current_app, g, request
from flask_babel import force_locale, get_locale
from flask_login import current_user, login_user
from gripcontrol import Channel, create_grip_channel_header, validate_sig
from werkzeug.exceptions import HTTPException

from . import live
from .extensions import db

if TYPE_CHECKING:
    from .live import Region

log = logging.getLogger(__name__)

COALESCE_SECONDS = 1.0  # one publication per variant per second during a burst (votes) …
PROMPT_SECONDS = live.PROMPT_INTERVAL  # … and at once for what people wait for (a new question)
RECHECK_SECONDS = 1.0
RIGHTS_BUCKETS = 16  # a change of rights closes an office's held streams in this many waves


def init_app(app: Flask) -> None:
    """Hand streams to Pushpin when ``PUSHPIN_SIG_KEY`` is set; otherwise the in-process path stays."""
    key = app.config.get("PUSHPIN_SIG_KEY", "")
    if key:
        urls = app.config.get("PUSHPIN_PUBLISH_URLS", "").replace(",", " ").split()
        app.extensions["intranet_live"].push_engine = PushpinEngine(app, key, urls)


def _grip_channel(region: Region) -> str:
    """Pushpin channel of one region variant: the bus channel, the region and, for a shared render,
    the variant and the locale it is rendered in. Names never come from the browser."""
    if region.share is None:
        return f"{region.channel}|{region.event}"
    return f"{region.channel}|{region.event}|{region.share}|{get_locale()}"


def _changed_frame(event: str) -> str:
    return f"event: changed\ndata: {event}\n\n"


class PushpinEngine:
    def __init__(self, app: Flask, key: str, publish_urls: list[str]) -> None:
        self.app, self._key = app, key
        self._publish_urls = [url.rstrip("/") + "/publish/" for url in publish_urls]
        url = app.config.get("REDIS_URL")
        if url:
            import redis

            self._redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
        else:  # one app process: the recipes stay in its memory
            self._redis, self._local = None, {}
        self._prefix = app.config.get("LIVE_PREFIX", "intranet:live") + ":grip"
        self._lock = threading.Condition()
        self._pending: dict[str, tuple[float, bool]] = {}  # bus channel -> (due, prompt)
        self._last: dict[str, float] = {}  # bus channel -> when this process last published it
        self._rechecks: list[tuple[float, str, int]] = []  # (due, bus channel, version a hold rendered)
        self._closes: list[tuple[float, list[str]]] = []  # (due, rights channels to close)
        self._thread: threading.Thread | None = None
        self._thread_pid: int | None = None
        # Streams end after LIVE_STREAM_MAX_SECONDS, as in-process ones do, so that the browser's
        # reconnection re-checks the user's rights: each hold also joins the channel of the time step
        # it expires in, and the publisher closes every step that has passed (any process may; a
        # second close of a step is harmless).
        self._max_age = int(app.config.get("LIVE_STREAM_MAX_SECONDS", 300))
        self._step = max(1, min(30, self._max_age // 10))
        self._closed_step = int(time.time() // self._step) - self._max_age // self._step - 2

    # --- the stream request, through Pushpin ----------------------------------------------------------

    def takes_stream(self) -> bool:
        """True when Pushpin forwarded this request (its signature checks out with the shared key), or
        when the publisher replays the view; anything else is streamed in-process as before."""
        if g.get("grip_replay"):
            return True
        sig = request.headers.get("Grip-Sig")
        return bool(sig) and validate_sig(sig, self._key, iss="pushpin")

    def hold(self, regions: list[Region]) -> Response:
        """Answer the stream request with the initial frames and a GRIP stream hold."""
        if g.get("grip_replay"):  # the publisher replaying the view: it wants the regions, not a hold
            g.grip_regions = regions
            return Response(status=204)
        channels = [_grip_channel(region) for region in regions]
        self._remember(regions, channels)
        self._ensure_thread()  # it also ends the streams that reach their age
        channels.append(self._expiry_channel(int((time.time() + self._max_age) // self._step) + 1))
        bucket = random.randrange(RIGHTS_BUCKETS)
        offices = {g.get("gate_office_id", current_user.office_id), current_user.office_id}
        scopes = [f"office:{office}" for office in offices if office is not None] + [f"user:{current_user.id}"]
        channels.extend(self._rights_channel(scope, bucket) for scope in scopes)
        versions = [self._version(r.channel) for r in regions]
        body = "retry: 3000\n\n" + "".join(live.frame([r], [v], 0) for r, v in zip(regions, versions))
        # A change committed after these renders but before Pushpin subscribes would be missed: look
        # again once Pushpin has surely subscribed, and publish if the channel moved meanwhile.
        with self._lock:
            due = time.monotonic() + RECHECK_SECONDS
            self._rechecks.extend((due, r.channel, v) for r, v in zip(regions, versions) if v is not None)
            self._lock.notify()
        response = Response(body, mimetype="text/event-stream")
        heartbeat = int(current_app.config["LIVE_HEARTBEAT_SECONDS"])
        response.headers["Grip-Hold"] = "stream"
        response.headers["Grip-Channel"] = create_grip_channel_header([Channel(c) for c in channels])
        response.headers["Grip-Keep-Alive"] = f":\\n\\n; format=cstring; timeout={heartbeat}"
        response.headers["Cache-Control"] = "no-cache"
        return response

    def _expiry_channel(self, step: int) -> str:
        return f"{self._prefix}:expiry:{step}"

    def _rights_channel(self, scope: str, bucket: int) -> str:
        return f"{self._prefix}:rights:{scope}:{bucket}"

    def end_holds(self, scopes: set[str]) -> None:
        """Close the streams held for ``scopes`` ("office:<id>", "user:<id>"), each bucket at a random
        moment within LIVE_RECHECK_SPREAD_SECONDS — and again once a hold granted under the old rights
        while the change committed has surely been subscribed (as ``hold`` rechecks versions)."""
        self._ensure_thread()
        spread = float(self.app.config["LIVE_RECHECK_SPREAD_SECONDS"])
        now = time.monotonic()
        with self._lock:
            for bucket in range(RIGHTS_BUCKETS):
                channels = [self._rights_channel(scope, bucket) for scope in sorted(scopes)]
                due = now + random.uniform(0, spread)
                self._closes.extend((when, channels) for when in {due, max(due, now + RECHECK_SECONDS)})
            self._lock.notify()

    def _close_due(self) -> None:
        with self._lock:
            now = time.monotonic()
            due = [channels for when, channels in self._closes if when <= now]
            self._closes = [c for c in self._closes if c[0] > now]
        if due:
            self._close([channel for channels in due for channel in channels])

    def _close(self, channels: list[str]) -> None:
        self._send([{"channel": c, "formats": {"http-stream": {"action": "close"}}} for c in channels])

    def _close_expired(self) -> None:
        now_step = int(time.time() // self._step)
        steps = range(self._closed_step + 1, now_step + 1)
        if steps:
            self._close([self._expiry_channel(step) for step in steps])
            self._closed_step = now_step

    def _version(self, channel: str) -> int | None:
        try:
            return live.bus().version(channel)
        except Exception:  # the bus is away: render without the shared cache
            return None

    def _remember(self, regions: list[Region], channels: list[str]) -> None:
        path = request.full_path.rstrip("?")
        ttl = 2 * self._max_age
        for region, channel in zip(regions, channels):
            recipe = json.dumps(
                {
                    "path": path,
                    "user": current_user.id,
                    "event": region.event,
                    "shared": region.share is not None,
                    "locale": str(get_locale()),
                }
            )
            key = f"{self._prefix}:{region.channel}"
            if self._redis is None:
                self._local.setdefault(key, {})[channel] = (recipe, time.time() + ttl)
            else:
                with self._redis.pipeline() as pipe:
                    pipe.hset(key, channel, recipe).expire(key, ttl).execute()

    def _recipes(self, bus_channel: str) -> dict[str, dict]:
        key = f"{self._prefix}:{bus_channel}"
        if self._redis is None:
            now = time.time()
            kept = {c: r for c, (r, until) in self._local.get(key, {}).items() if until > now}
            return {c: json.loads(r) for c, r in kept.items()}
        return {c.decode(): json.loads(r) for c, r in self._redis.hgetall(key).items()}

    # --- after a commit -----------------------------------------------------------------------------

    def announce(self, channel: str, prompt: bool) -> None:
        """Queue ``channel`` for publication; bursts within COALESCE_SECONDS become one."""
        self._ensure_thread()
        with self._lock:
            wait = PROMPT_SECONDS if prompt else COALESCE_SECONDS
            due = max(time.monotonic(), self._last.get(channel, float("-inf")) + wait)
            old = self._pending.get(channel)
            if old is None or due < old[0]:
                self._pending[channel] = (due, prompt)
            self._lock.notify()

    def _ensure_thread(self) -> None:
        # Started lazily and again after a fork: threads do not survive into gunicorn's workers.
        with self._lock:
            if self._thread is not None and self._thread_pid == os.getpid() and self._thread.is_alive():
                return
            self._thread_pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="live-pushpin", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        next_expiry = 0.0
        while True:
            if time.monotonic() >= next_expiry:
                next_expiry = time.monotonic() + self._step
                try:
                    self._close_expired()
                except OSError:
                    log.warning("Pushpin unreachable; expired streams not closed yet")
            self._recheck_holds()
            try:
                self._close_due()
            except OSError:  # the streams still end at their age
                log.warning("Pushpin unreachable; streams whose rights changed not closed")
            with self._lock:
                now = time.monotonic()
                ready = [c for c, (due, _) in self._pending.items() if due <= now]
                if not ready:
                    soonest = min(
                        [due for due, _ in self._pending.values()]
                        + [r[0] for r in self._rechecks]
                        + [c[0] for c in self._closes],
                        default=next_expiry,
                    )
                    self._lock.wait(timeout=max(0.0, min(soonest, next_expiry) - now))
                    continue
                for channel in ready:
                    del self._pending[channel]
                    self._last[channel] = now
            for channel in ready:
                try:
                    with self.app.app_context():
                        self.publish(channel)
                except Exception:  # the change is saved; clients catch up at their next reconnect
                    log.warning("Pushpin publication of %s failed", channel, exc_info=True)

    def _recheck_holds(self) -> None:
        with self._lock:
            now = time.monotonic()
            due = {(channel, version) for when, channel, version in self._rechecks if when <= now}
            self._rechecks = [r for r in self._rechecks if r[0] > now]
        bus = self.app.extensions["intranet_live"]
        for channel in {c for c, _ in due}:
            try:
                current = bus.version(channel)
            except Exception:  # the bus is away; the next change will be published anyway
                continue
            if any(current != version for c, version in due if c == channel):
                try:  # even if another process published this version: before this hold was subscribed
                    with self.app.app_context():
                        self.publish(channel, force=True)
                except Exception:
                    log.warning("Pushpin publication of %s failed", channel, exc_info=True)

    def publish(self, bus_channel: str, force: bool = False) -> None:
        """Render each granted variant of ``bus_channel`` once and publish it to every Pushpin.
        Runs under a per-channel lock (Redis when shared): a render made earlier can never be
        published after a later one."""
        # Without Redis there is one app process, whose single publisher thread is already in order.
        lock = (
            nullcontext()
            if self._redis is None
            else self._redis.lock(f"{self._prefix}:lock:{bus_channel}", timeout=30, blocking_timeout=30)
        )
        with lock:
            version = live.bus().version(bus_channel)
            done = f"{self._prefix}:published:{bus_channel}"
            if not force and self._redis is not None and int(self._redis.get(done) or -1) >= version:
                return  # another process has published this version (or a newer one) already
            items = []
            for grip_channel, recipe in self._recipes(bus_channel).items():
                frame = self._render(recipe, version) if recipe["shared"] else _changed_frame(recipe["event"])
                if frame is not None:
                    items.append({"channel": grip_channel, "formats": {"http-stream": {"content": frame}}})
            if items:
                self._send(items)
            if self._redis is not None:
                self._redis.set(done, version, ex=2 * self._max_age)

    def _render(self, recipe: dict, version: int) -> str | None:
        """Replay the stream view as the user the variant was granted to and render its region."""
        from .models import User

        # In the variant's language even if the user's own choice lived in their browser session.
        with self.app.test_request_context(recipe["path"]), force_locale(recipe["locale"]):
            user = db.session.get(User, recipe["user"])
            if user is None or not login_user(user):
                return None
            g.grip_replay = True
            try:
                self.app.preprocess_request() or self.app.dispatch_request()
            except HTTPException:  # the user has lost access since: others' grants will refresh it
                return None
            finally:
                db.session.rollback()
            region = next((r for r in g.get("grip_regions", ()) if r.event == recipe["event"]), None)
            return None if region is None else live.frame([region], [version], 0)

    def _send(self, items: list[dict]) -> None:
        body = json.dumps({"items": items}).encode()
        for url in self._publish_urls:
            req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=5) as answer:
                answer.read()
