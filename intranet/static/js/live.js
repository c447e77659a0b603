// Live regions (intranet/live.py). One EventSource per [data-live-stream] element carries every
// [data-live-region] inside it. When the stream cannot hold — no frame within 10 s (a buffering
// proxy), three failed connections in a row, or the server refusing it — the page is polled every
// 2 s with If-None-Match (one request for all its regions when the element has data-live-poll),
// which the server answers 304, without touching the database, when nothing changed. A refused
// stream (429: too many live pages open; 503: the live bus, Redis, is away) closes at once: the page
// polls, quietly, and tries the stream again after STREAM_RETRY_MS.
(() => {
  const POLL_MS = 2000, FIRST_FRAME_MS = 10000, STREAM_RETRY_MS = 30000;

  function swap(region, html) {
    const active = document.activeElement;
    // Never wipe what the user is typing or clicking, nor a form whose answer is on its way (htmx marks
    // it .htmx-request): detached, the answer's events would never reach the page. Applied afterwards.
    if (region.dataset.held || region.querySelector(".htmx-request")
        || (active && region.contains(active) && active.matches("input, textarea, select"))) {
      region.pendingHtml = html;
      return;
    }
    delete region.pendingHtml;
    const open = [...region.querySelectorAll("details[open][id]")].map((d) => d.id);
    region.innerHTML = html;
    open.forEach((id) => { const d = document.getElementById(id); if (d) d.open = true; });
    if (window.htmx) window.htmx.process(region);
    region.dispatchEvent(new CustomEvent("live:swapped", {bubbles: true}));
  }

  function release(region) {
    setTimeout(() => {
      delete region.dataset.held;
      if (region.pendingHtml !== undefined) swap(region, region.pendingHtml);
    }, 150);
  }

  // A page poll's body: the changed regions as server-sent-event frames ("event: name", "data: line").
  function frames(text) {
    return text.split("\n\n").filter((block) => block.trim()).map((block) => {
      let name = "";
      const data = [];
      block.split("\n").forEach((line) => {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(line.startsWith("data: ") ? 6 : 5));
      });
      return [name, data.join("\n")];
    });
  }

  // One request per page when the element names a page poll (all its regions, only those changed);
  // otherwise each region polls its own URL.
  function poll(root, regions, say) {
    say("polling");
    let stopped = false;
    const byName = new Map(regions.map((region) => [region.dataset.liveRegion, region]));
    const targets = root.dataset.livePoll
      ? [{url: root.dataset.livePoll, apply: (text) => frames(text).forEach(([name, html]) => {
          if (byName.has(name)) swap(byName.get(name), html);
        })}]
      : regions.map((region) => ({url: region.dataset.livePoll, apply: (html) => swap(region, html)}));
    const tick = async () => {
      if (stopped) return;
      for (const target of targets) {
        try {
          const headers = target.tag ? {"If-None-Match": target.tag} : {};
          const response = await fetch(target.url, {headers, cache: "no-store", credentials: "same-origin"});
          if (response.status === 200) {
            target.tag = response.headers.get("ETag");
            target.apply(await response.text());
          }
          say(response.ok || response.status === 304 ? "polling" : "offline");
        } catch (e) {
          say("offline");
        }
      }
      setTimeout(tick, POLL_MS);
    };
    tick();
    return () => { stopped = true; };
  }

  function connect(root) {
    const regions = [...root.querySelectorAll("[data-live-region]")];
    const status = root.querySelector("[data-live-status]");
    const say = (state) => {
      if (!status) return;
      status.dataset.state = state;
      status.textContent = status.dataset[state] || state;
    };
    regions.forEach((region) => {
      region.addEventListener("pointerdown", () => { region.dataset.held = "1"; });
      region.addEventListener("pointerup", () => release(region));
      region.addEventListener("focusout", () => release(region));
      region.addEventListener("htmx:afterRequest", () => release(region));
    });
    if (!window.EventSource || !root.dataset.liveStream) return poll(root, regions, say);
    stream(root, regions, say);
  }

  function stream(root, regions, say) {
    const source = new EventSource(root.dataset.liveStream);
    let framed = false, failures = 0;
    const fallBack = () => {
      clearTimeout(firstFrame);
      const refused = source.readyState === EventSource.CLOSED;  // answered with something else than a stream
      source.close();
      const stop = poll(root, regions, say);
      if (refused) setTimeout(() => { stop(); stream(root, regions, say); }, STREAM_RETRY_MS);
    };
    const firstFrame = setTimeout(() => { if (!framed) fallBack(); }, FIRST_FRAME_MS);
    source.addEventListener("ready", () => { framed = true; say("live"); });
    regions.forEach((region) => source.addEventListener(region.dataset.liveRegion, (event) => {
      framed = true;
      say("live");
      swap(region, event.data);
    }));
    // Behind the push engine a region that differs per user only says it changed: fetch it once.
    // Its own poll URL, or the page's (which answers every region as frames: the one named is applied).
    source.addEventListener("changed", async (event) => {
      const region = regions.find((r) => r.dataset.liveRegion === event.data);
      if (!region) return;
      const own = region.dataset.livePoll;
      const response = await fetch(own || root.dataset.livePoll, {cache: "no-store", credentials: "same-origin"});
      if (!response.ok) return;
      const text = await response.text();
      if (own) swap(region, text);
      else frames(text).forEach(([name, html]) => { if (name === event.data) swap(region, html); });
    });
    source.onopen = () => { failures = 0; say("live"); };
    source.onerror = () => {
      // CLOSED: the server refused the stream (too many open pages, or the bus away): polling, quietly.
      if (source.readyState === EventSource.CLOSED) return fallBack();
      say("reconnecting");
      if (++failures >= 3) fallBack();
    };
  }

  document.addEventListener("DOMContentLoaded", () => document.querySelectorAll("[data-live-stream]").forEach(connect));
})();
