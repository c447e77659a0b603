// Live regions (intranet/live.py). One EventSource per [data-live-stream] element carries every
// [data-live-region] inside it. When the stream cannot hold — no frame within 10 s (a buffering
// proxy) or three failed connections in a row — each region is polled every 2 s with If-None-Match,
// which the server answers 304, without touching the database, when nothing changed.
(() => {
  const POLL_MS = 2000, FIRST_FRAME_MS = 10000;

  function swap(region, html) {
    const active = document.activeElement;
    if (region.dataset.held || (active && region.contains(active) && active.matches("input, textarea, select"))) {
      region.pendingHtml = html;  // never wipe what the user is typing or clicking; applied afterwards
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

  function poll(regions, say) {
    say("polling");
    const tags = new Map();
    const tick = async () => {
      for (const region of regions) {
        try {
          const headers = tags.has(region) ? {"If-None-Match": tags.get(region)} : {};
          const response = await fetch(region.dataset.livePoll, {headers, cache: "no-store", credentials: "same-origin"});
          if (response.status === 200) {
            tags.set(region, response.headers.get("ETag"));
            swap(region, await response.text());
          }
          say(response.ok || response.status === 304 ? "polling" : "offline");
        } catch (e) {
          say("offline");
        }
      }
      setTimeout(tick, POLL_MS);
    };
    tick();
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
    });
    if (!window.EventSource || !root.dataset.liveStream) return poll(regions, say);
    const source = new EventSource(root.dataset.liveStream);
    let framed = false, failures = 0;
    const fallBack = () => { clearTimeout(firstFrame); source.close(); poll(regions, say); };
    const firstFrame = setTimeout(() => { if (!framed) fallBack(); }, FIRST_FRAME_MS);
    regions.forEach((region) => source.addEventListener(region.dataset.liveRegion, (event) => {
      framed = true;
      say("live");
      swap(region, event.data);
    }));
    // Behind the push engine a region that differs per user only says it changed: fetch it once.
    source.addEventListener("changed", async (event) => {
      const region = regions.find((r) => r.dataset.liveRegion === event.data);
      if (!region) return;
      const response = await fetch(region.dataset.livePoll, {cache: "no-store", credentials: "same-origin"});
      if (response.ok) swap(region, await response.text());
    });
    source.onopen = () => { failures = 0; say("live"); };
    source.onerror = () => {
      say("reconnecting");
      if (++failures >= 3 || source.readyState === EventSource.CLOSED) fallBack();
    };
  }

  document.addEventListener("DOMContentLoaded", () => document.querySelectorAll("[data-live-stream]").forEach(connect));
})();
