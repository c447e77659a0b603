// Thin links, in the page: the service worker's registration (static/js/sw.js), "keep on this
// device", the note on an offline copy, and the link indicator. Every page works without it.
(() => {
  const CACHE = "intranet-offline-v1";  // the service worker's store (sw.js)
  const body = () => document.body;
  const format = (template, saved) => template.replace("{saved}", saved ? new Date(saved).toLocaleString() : "");

  // --- the service worker and its store -------------------------------------------------------
  function register() {
    const url = body().dataset.serviceWorker;
    if (!url || !("serviceWorker" in navigator)) return;
    navigator.serviceWorker.register(url, {scope: "/", updateViaCache: "all"}).catch(() => {});
  }

  // Signing out forgets every stored page: they hold this member's data.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.matches || !form.matches("[data-forget-offline]") || !window.caches) return;
    event.preventDefault();
    caches.delete(CACHE).finally(() => form.submit());
  });

  // --- "keep on this device" ------------------------------------------------------------------
  async function keep(button, status, fetchNew) {
    const cache = await caches.open(CACHE);
    let copy = await cache.match(new URL(button.dataset.keep, location.href).href);
    const outdated = copy && copy.headers.get("X-Offline-Version") !== button.dataset.keepVersion;
    if (fetchNew || outdated) {
      try {
        await cache.add(button.dataset.keep);  // the service worker refreshes it on later visits too
        copy = await cache.match(new URL(button.dataset.keep, location.href).href);
      } catch (e) {
        if (fetchNew) status.textContent = status.dataset.failed;
        return;
      }
    }
    if (!copy) return;
    button.hidden = true;
    status.textContent = outdated ? status.dataset.updated : format(status.dataset.kept, copy.headers.get("Date"));
  }

  function offerKeeping() {
    const button = document.querySelector("[data-keep]");
    if (!button || !window.caches || !("serviceWorker" in navigator)) return;
    const status = button.parentElement.querySelector("[data-keep-status]");
    button.hidden = false;
    button.addEventListener("click", () => keep(button, status, true));
    keep(button, status, false).catch(() => {});
  }

  // --- an offline copy says so ------------------------------------------------------------------
  const offlineCopy = () => document.documentElement.dataset.offlineCopy !== undefined;

  function noteOfflineCopy() {
    const note = document.querySelector("[data-offline-note]");
    if (!note || !offlineCopy()) return;
    note.textContent = format(note.dataset.offlineNote, document.documentElement.dataset.offlineCopy);
    note.hidden = false;
  }

  // --- the link indicator -----------------------------------------------------------------------
  // From what the page already sees: the live regions' state (live.js writes data-state on each
  // [data-live-status]), the outbox's waiting count, the browser's online flag and how long this
  // page's own requests took. Live pages only (a live region or an outbox).
  const SLOW_MS = 2000;
  let slowUntil = 0;

  function linkState() {
    const states = [...document.querySelectorAll("[data-live-status]")].map((el) => el.dataset.state);
    const waiting = [...document.querySelectorAll("[data-outbox-status]")].some((el) => !el.hidden);
    if (!navigator.onLine || offlineCopy() || (states.length && states.every((s) => s === "offline"))) return "offline";
    if (waiting || states.some((s) => s === "reconnecting" || s === "polling" || s === "offline")
        || Date.now() < slowUntil) return "slow";
    return "connected";
  }

  function indicate() {
    const indicator = document.querySelector("[data-link-state]");
    if (!indicator || !document.querySelector("[data-live-stream], [data-outbox]")) return;
    const show = () => {
      const state = linkState();
      if (indicator.dataset.state === state && !indicator.hidden) return;  // (its own change is observed too)
      indicator.hidden = false;
      indicator.dataset.state = state;
      indicator.textContent = indicator.dataset[state];
    };
    new MutationObserver(show).observe(document.querySelector("main"), {
      subtree: true, attributes: true, attributeFilter: ["data-state", "hidden"],
    });
    window.addEventListener("online", show);
    window.addEventListener("offline", show);
    if (window.PerformanceObserver) {
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) {
          if (entry.initiatorType === "fetch" && entry.duration > SLOW_MS) slowUntil = Date.now() + 30000;
        }
        show();
      }).observe({type: "resource"});
    }
    setInterval(show, 5000);  // "slow" fades on its own once round trips are quick again
    show();
  }

  // Registered once the page has loaded: the worker's script never competes with the page's own files.
  window.addEventListener("load", () => { if (!offlineCopy()) register(); });
  document.addEventListener("DOMContentLoaded", () => {
    noteOfflineCopy();
    offerKeeping();
    indicate();
  });
})();
