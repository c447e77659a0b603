"""Declared live regions: a plugin declares each live region of its pages once — its name, its bus
channel, how it renders, who may have it — and gets its stream and poll routes made from the
declarations, with every check in one place (README, "The live bus").

    regions = LiveRegions(bp, "/sessions/<int:session_id>", load=meeting_or_abort)
    regions.region("board", channel=board_channel, render=board_html, allowed=is_moderator)
    regions.page("board", "board")

adds to the blueprint two routes: ``<rule>/stream?page=<page>`` (endpoint ``<blueprint>.stream``: every
region of the page on one server-sent-event stream) and ``<rule>/poll/<name,name…>`` (``<blueprint>.poll``:
the regions named that changed, in one request, answered 304 before the database when none did).
Both run ``load(**url_args)`` first — the right to the object: it aborts (403/404) or returns the
object — then each region's ``allowed(object)`` (403 when False), after the core's plugin gate (404
while the plugin is off, the sign-in page when signed out).

Another plugin never names these routes or regions: it offers a template slot and the owner of the
regions fills it (``intranet_template_slot``), so the slot is empty where the owner is off.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, request, url_for
from flask import session as cookie
from flask_login import current_user

from . import live
from .params import parse_int
from .plugins import cross_office_view


@dataclass(frozen=True)
class LiveRegion:
    """``channel(**url_args)`` names the bus channel whose changes re-render the region (no database:
    the unchanged-poll answer runs before any); ``render(**url_args, **options)`` renders it afresh (a
    stream renders long after its request began). A ``per_user`` region differs per viewer (my own
    questions): both get the viewer's ``user_id`` too, and its render is never shared. Any other
    region is the same for every viewer it is ``allowed`` to and for the same options, so it is
    rendered once per change for all of them."""

    name: str
    channel: Callable[..., str]
    render: Callable[..., str]
    allowed: Callable[[Any], bool] | None = None
    per_user: bool = False

    def viewer(self, user_id: int) -> dict:
        """The arguments that say who views, for the channel and the render of a per-user region."""
        return {"user_id": user_id} if self.per_user else {}


class LiveRegions:
    """The live regions of one kind of object of a plugin (a meeting, an office), and the pages that
    show them. ``options(object)`` reads what the request chooses about the renders (the order of a
    queue, from the query string): it is passed to every render and tells shared renders apart, and
    the page's stream and poll URLs carry it. ``office_of``, for an object that invited guests of
    other offices may reach, opens both routes to them as ``intranet.plugins.cross_office_view`` does."""

    def __init__(
        self,
        bp: Blueprint,
        rule: str,
        *,
        load: Callable[..., Any],
        options: Callable[[Any], dict] = lambda obj: {},
        min_interval: float = 1.0,
        office_of: Callable[..., int | None] | None = None,
    ) -> None:
        self.blueprint, self.load, self.options, self.min_interval = bp.name, load, options, min_interval
        self.regions: dict[str, LiveRegion] = {}
        self.pages: dict[str, tuple[str, ...]] = {}

        def stream(**url_args):
            return self._stream(url_args)

        def poll(regions: str, **url_args):
            return self._poll(regions, url_args)

        if office_of is not None:
            stream = cross_office_view(office_of)(stream)
            poll = cross_office_view(lambda regions, **url_args: office_of(**url_args))(poll)
        stream.live_regions = poll.live_regions = self  # tests read the declarations back
        # Ends in /stream: the proxies send every such URL to the stream holder (deploy/nginx).
        bp.add_url_rule(f"{rule}/stream", "stream", stream)
        bp.add_url_rule(f"{rule}/poll/<regions>", "poll", live.poll_view(self._poll_channels)(poll))

    # --- declaring --------------------------------------------------------------------------------

    def region(
        self,
        name: str,
        channel: Callable[..., str],
        render: Callable[..., str],
        *,
        allowed: Callable[[Any], bool] | None = None,
        per_user: bool = False,
    ) -> LiveRegion:
        if name in self.regions or not name or "," in name:
            raise ValueError(f"live region {name!r} of {self.blueprint!r}: declared twice or not a name")
        self.regions[name] = LiveRegion(name, channel, render, allowed, per_user)
        return self.regions[name]

    def page(self, name: str, *regions: str) -> None:
        """A page and its regions, in the order of its stream's event ids; the first page declared is
        the stream's default."""
        unknown = [r for r in regions if r not in self.regions]
        if unknown or not regions or name in self.pages:
            raise ValueError(
                f"live page {name!r} of {self.blueprint!r}: undeclared regions {unknown} or declared twice"
            )
        self.pages[name] = regions

    # --- using ------------------------------------------------------------------------------------

    def page_context(self, page: str, url_args: dict, options: dict, **query) -> dict:
        """What a page's template needs (its view has made the checks): ``regions``, the HTML of each as
        first shown; ``stream_url``, naming the versions rendered (``since=``: the stream then sends only
        later changes; empty while the bus is away) and ``poll_url``, both with ``query`` (the options
        as the URL says them)."""
        regions = self._build(self.pages[page], url_args, options, current_user.id)
        versions = [live.version_or_none(region.channel) for region in regions]  # before rendering: no change is lost
        since = "" if None in versions else ".".join(map(str, versions))
        return {
            "regions": {
                region.event: live.render_region(region, version) for region, version in zip(regions, versions)
            },
            "stream_url": url_for(f"{self.blueprint}.stream", page=page, **url_args, **query, since=since),
            "poll_url": url_for(f"{self.blueprint}.poll", regions=",".join(self.pages[page]), **url_args, **query),
        }

    # --- the generated views ----------------------------------------------------------------------

    def _stream(self, url_args: dict):
        obj = self.load(**url_args)
        names = self.pages.get(request.args.get("page") or next(iter(self.pages), ""))
        if names is None:
            abort(404)
        return live.sse_stream(self._checked(obj, names, url_args), min_interval=self.min_interval)

    def _poll(self, regions: str, url_args: dict):
        obj = self.load(**url_args)
        names = regions.split(",")
        if len(set(names)) != len(names) or not all(name in self.regions for name in names):
            abort(404)
        return live.poll_regions(self._checked(obj, names, url_args))

    def _checked(self, obj, names, url_args: dict) -> list[live.Region]:
        if not all(self.regions[name].allowed is None or self.regions[name].allowed(obj) for name in names):
            abort(403)
        return self._build(names, url_args, self.options(obj), current_user.id)

    def _build(self, names, url_args: dict, options: dict, user_id: int) -> list[live.Region]:
        variant = "".join(f":{getattr(value, 'value', value)}" for value in options.values())
        built = []
        for region in map(self.regions.__getitem__, names):
            own = region.viewer(user_id)
            built.append(
                live.Region(
                    region.name,
                    region.channel(**url_args, **own),
                    lambda r=region, own=own: r.render(**url_args, **options, **own),
                    None if region.per_user else region.name + variant,
                )
            )
        return built

    def _poll_channels(self, regions: str, **url_args) -> tuple[str, ...]:
        """The channels a poll watches, from the URL and the signed cookie only (no database)."""
        user_id = parse_int(str(cookie.get("_user_id", "0")).partition(".")[0]) or 0
        found = [self.regions[name] for name in regions.split(",") if name in self.regions]  # the view 404s the rest
        return tuple(region.channel(**url_args, **region.viewer(user_id)) for region in found)
