// The service worker (intranet/offline.py serves it at the site's root, so it may answer for every
// page). Plain Cache Storage, no framework. Pages are always fetched from the network first; a page
// the server marks "X-Offline-Copy: shell" (the follow-along and queue pages) is stored each time it
// arrives, one marked "kept" (a meeting's documents) only once the member chose "keep on this
// device" (static/js/offline.js stores it). With no connection, the stored copy is shown, tagged
// data-offline-copy with the time the server sent it, so the page can say it is an offline copy.
// Static files are not handled here: their hashed names are cached for good by the browser itself.
const CACHE = "intranet-offline-v1";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name !== CACHE) await caches.delete(name);
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || request.mode !== "navigate") return;
  event.respondWith(page(request));
});

async function page(request) {
  try {
    const response = await fetch(request);
    const mark = response.ok && response.headers.get("X-Offline-Copy");
    if (mark === "shell" || (mark === "kept" && await caches.match(request.url, {cacheName: CACHE}))) {
      const cache = await caches.open(CACHE);
      await cache.put(request.url, response.clone());  // a newer version replaces the kept one
    }
    return response;
  } catch (error) {
    const copy = await caches.match(request.url, {cacheName: CACHE});
    if (!copy) throw error;  // never stored: the browser's own "no connection" page
    const saved = copy.headers.get("Date") || "";
    const html = (await copy.text()).replace("<html ", `<html data-offline-copy="${saved.replace(/"/g, "")}" `);
    const headers = {"Content-Type": "text/html; charset=utf-8"};
    const policy = copy.headers.get("Content-Security-Policy");
    if (policy) headers["Content-Security-Policy"] = policy;  // the same rules offline
    return new Response(html, {headers});
  }
}
