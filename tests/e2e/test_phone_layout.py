"""A phone (390 px wide) shows every page a member and the secretary reach without sideways scrolling:
the demo's cell is crawled from the start page, following every link the role sees, and no page may be
wider than the screen. The menu folds away on a phone and opens on a tap."""

import re
from urllib.parse import urldefrag, urlparse

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from support import PASSWORD, shot, sign_in

from intranet.extensions import db
from intranet.models import User

PHONE = {"width": 390, "height": 844}
# Files, feeds and the live regions' machinery are not pages; signing out ends the crawl.
NOT_PAGES = re.compile(
    r"\.(docx|pdf|csv|ics|js)$|/documents/\d+$|/(stream|poll|token|ping|probe)(/|$)|/logout|/static/"
)
PAGES_PER_ROUTE = 2  # months, meetings and documents repeat one template: two of each are enough


@pytest.fixture
def demo(app):
    """The demo cell of `make run`, with a known password for the accounts the test signs in as."""
    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    with app.app_context():
        for user in db.session.scalars(select(User).where(User.username.in_(("bithu", "dangvien1")))):
            user.set_password(PASSWORD)
            user.must_change_password = False
        db.session.commit()


def _route(url: str) -> str:
    return re.sub(r"\d+", "N", urlparse(url).path)


def _crawl(page, live_server):
    """Every page reachable by links from the start page, at most PAGES_PER_ROUTE per route."""
    seen, per_route, queue = set(), {}, ["/"]
    while queue:
        url = queue.pop(0)
        route = _route(url)
        if url in seen or per_route.get(route, 0) >= PAGES_PER_ROUTE:
            continue
        seen.add(url)
        per_route[route] = per_route.get(route, 0) + 1
        response = page.goto(url)
        assert response.ok, f"{url}: {response.status}"
        yield url
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            target = urldefrag(href).url
            if target.startswith(live_server) and not NOT_PAGES.search(urlparse(target).path):
                queue.append(target[len(live_server) :] or "/")


WIDER_THAN_SCREEN = """() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width) return null;
  // name the outermost elements that stick out of the page (not out of a box that scrolls), to say what to fix
  const sticksOut = el => el.getBoundingClientRect().right > width + 1;
  const clipped = el => { for (let up = el.parentElement; up; up = up.parentElement)
    if (getComputedStyle(up).overflowX !== "visible" && !sticksOut(up)) return true; return false; };
  const out = [...document.querySelectorAll("body *")].filter(el => sticksOut(el) && !clipped(el)
      && !(el.parentElement && sticksOut(el.parentElement)));
  return document.documentElement.scrollWidth + " px: " + out.slice(0, 5).map(el =>
      el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className ? "." + el.className : "")).join(", ");
}"""


@pytest.mark.parametrize("username", ["dangvien1", "bithu"])
def test_no_page_is_wider_than_a_phone(browser, live_server, demo, username):
    context = browser.new_context(base_url=live_server, viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    phone = context.new_page()
    sign_in(phone, username)
    too_wide, visited = [], []
    for url in _crawl(phone, live_server):
        visited.append(url)
        wider = phone.evaluate(WIDER_THAN_SCREEN)
        if wider:
            too_wide.append(f"{url}: {wider}")
    context.close()
    assert len(visited) > 15, visited  # the crawl really went through the cell's pages
    assert not too_wide, "wider than a 390 px screen:\n" + "\n".join(too_wide)


def test_phone_menu_folds_away_and_opens(browser, live_server, demo):
    context = browser.new_context(base_url=live_server, viewport=PHONE, is_mobile=True, has_touch=True)
    phone = context.new_page()
    sign_in(phone, "dangvien1")
    menu = phone.locator("#main-nav")
    expect(menu.get_by_role("link", name="Chương trình")).to_be_hidden()
    header = phone.locator(".site-header").bounding_box()
    assert header["height"] < 130, header  # the menu no longer fills the top of every page (it took ~300 px)
    shot(phone, "core-phone-home", full_page=False)
    summary = phone.locator("#site-menu > summary")
    expect(summary).to_contain_text("Danh mục")
    summary.click()
    expect(menu.get_by_role("link", name="Chương trình")).to_be_visible()
    shot(phone, "core-phone-menu", full_page=False)
    phone.goto("/evaluations/me")  # a wide table: it scrolls inside its box, the page does not
    expect(phone.locator(".table-scroll #my-record")).to_be_visible()
    shot(phone, "core-phone-participation", full_page=False)
    context.close()

    wide = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 800}).new_page()
    sign_in(wide, "dangvien1")
    expect(wide.locator("#main-nav").get_by_role("link", name="Chương trình")).to_be_visible()
    expect(wide.locator("#site-menu > summary")).to_be_hidden()
    wide.context.close()


# Every element's computed style (and its ::before/::after), as a multiset of lines: the page's look,
# independent of pixels that move with the clock. Left out: what shows a link's state ([data-state]:
# "connecting", then "live"), which changes while the page runs.
COMPUTED_STYLES = """() => [...document.querySelectorAll("body, body *:not([data-state], [data-live-status], [data-link-state])")].flatMap((el) =>
  [null, "::before", "::after"].map((pseudo) => {
    const style = getComputedStyle(el, pseudo);
    if (pseudo && style.content === "none") return null;
    const path = el.tagName + (el.id ? "#" + el.id : "") + (pseudo || "");
    return path + " " + [...style].map((name) => name + ":" + style.getPropertyValue(name)).join(";");
  }).filter(Boolean))"""


def _differences(line: str, others) -> str:
    """An element's properties that differ from the nearest line for the same element in ``others``."""
    path, _, style = line.partition(" ")
    mine = set(style.split(";"))
    theirs = min(
        (set(o.partition(" ")[2].split(";")) for o in others if o.startswith(path + " ")),
        key=lambda t: len(mine ^ t),
        default=set(),
    )
    return f"{path} {sorted(mine - theirs)} (trimmed: {sorted(theirs - mine)})"


SHOWN = {"/", "/questions/sessions/N", "/meetings/sessions/N/follow", "/scheduling/sessions/N"}


DESKTOP = {"width": 1280, "height": 800}


@pytest.mark.parametrize(
    "username, viewport",
    [("dangvien1", PHONE), ("dangvien1", DESKTOP), ("bithu", DESKTOP)],
    ids=["member-390px", "member-1280px", "secretary-1280px"],
)
def test_the_trimmed_pico_styles_every_page_as_the_whole_one_does(browser, live_server, demo, app, username, viewport):
    """intranet/css_trim.py drops the rules of Pico no page can use: every page a member reaches, at a
    phone's and a desktop's width, and every page the secretary reaches, has each element styled
    exactly as with the whole Pico."""
    from collections import Counter
    from pathlib import Path

    whole = Path(app.static_folder, "vendor/pico/pico.red.min.css").read_bytes()
    # no transitions: a colour caught half-way would differ from one load to the next
    context = browser.new_context(base_url=live_server, viewport=viewport, reduced_motion="reduce")
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in(page, username)
    differing, visited = [], 0
    for url in _crawl(page, live_server):
        visited += 1
        trimmed = Counter(page.evaluate(COMPUTED_STYLES))
        if _route(url) in SHOWN:  # looked at by hand
            shot(page, f"trimmed-pico-{username}-{viewport['width']}{_route(url).replace('/', '-').rstrip('-')}")
        page.route("**/static/vendor/pico/*.css", lambda route: route.fulfill(body=whole, content_type="text/css"))
        page.goto(url)
        with_whole = Counter(page.evaluate(COMPUTED_STYLES))
        page.unroute("**/static/vendor/pico/*.css")
        if trimmed != with_whole:
            only = [_differences(line, trimmed) for line in (with_whole - trimmed)][:3]
            differing.append(f"{url}: {only}")
    context.close()
    assert visited > 15
    assert not differing, "styled otherwise with the trimmed Pico:\n" + "\n".join(differing)
