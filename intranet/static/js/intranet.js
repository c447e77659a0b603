// Small progressive enhancements; every page works without them. No page has inline script (the
// Content-Security-Policy forbids it): behaviour is attached here through data- attributes.
const newIdempotencyKey = () => Array.from(crypto.getRandomValues(new Uint8Array(16)),
                                           (b) => b.toString(16).padStart(2, "0")).join("");

document.addEventListener("submit", (event) => {
  const message = event.target.dataset && event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});
document.addEventListener("focusin", (event) => {
  if (event.target.matches && event.target.matches("[data-select-on-focus]")) event.target.select();
});
// The menu folds behind "Menu" on a phone and stays open on a wider screen (base.html renders it open).
(() => {
  const menu = document.getElementById("site-menu");
  if (!menu) return;
  const phone = window.matchMedia("(max-width: 576px)");
  const fit = () => { menu.open = !phone.matches; };
  fit();
  phone.addEventListener("change", fit);
})();

// The outbox: a form marked data-outbox="name" is kept in localStorage and sent with an
// Idempotency-Key until the server answers, across a dropped link or a reload; the server runs it
// once however often it arrives (intranet/idempotency.py). Items belong to the signed-in user.
(() => {
  const STORE = "intranet-outbox";
  const load = () => { try { return JSON.parse(localStorage.getItem(STORE)) || []; } catch (e) { return []; } };
  const save = (items) => localStorage.setItem(STORE, JSON.stringify(items));
  const me = () => document.body.dataset.user || "";
  let timer = null, delay = 2000, sending = false;

  // A status marked data-outbox-for="name" counts that outbox's items only (a page may hold two kinds:
  // questions and ballots); one without counts them all.
  function show() {
    const mine = load().filter((item) => item.user === me());
    document.querySelectorAll("[data-outbox-status]").forEach((el) => {
      const waiting = mine.filter((item) => !el.dataset.outboxFor || item.name === el.dataset.outboxFor).length;
      el.hidden = waiting === 0;
      el.textContent = el.dataset.outboxStatus.replace("{n}", waiting);
    });
  }

  function tell(name, message) {
    document.querySelectorAll(`[data-outbox-message="${name}"]`).forEach((el) => { el.textContent = message; });
  }

  function retryLater() {
    clearTimeout(timer);
    timer = setTimeout(flush, delay);
    delay = Math.min(delay * 2, 30000);
  }

  // One sender at a time; it takes the oldest waiting item afresh after each answer, so an item queued
  // while another is on its way is sent right after it, in order.
  async function flush() {
    if (sending) return;
    sending = true;
    clearTimeout(timer);
    try {
      for (let item; (item = load().find((i) => i.user === me()));) {
        const body = new URLSearchParams(item.fields);
        const token = document.querySelector('meta[name="csrf-token"]');
        if (token) body.set("csrf_token", token.content);
        let response;
        try {
          response = await fetch(item.url, {method: "POST", body, redirect: "manual", credentials: "same-origin",
                                            headers: {"Idempotency-Key": item.key, "X-Outbox": "1"}});
        } catch (e) {
          retryLater();  // the link is still down
          return;
        }
        if (response.type === "opaqueredirect" || response.status >= 500 || response.status === 429) {
          retryLater();  // signed out (redirect to the login page) or the server is struggling: keep it
          return;
        }
        save(load().filter((i) => i.key !== item.key));
        delay = 2000;
        tell(item.name, response.ok ? "" : await response.text());
        document.dispatchEvent(new CustomEvent("outbox:sent", {detail: {name: item.name, ok: response.ok}}));
      }
    } finally {
      sending = false;
      show();
    }
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (event.defaultPrevented || !form.dataset || form.dataset.outbox === undefined) return;
    event.preventDefault();
    const fields = [...new FormData(form)].filter(([, value]) => typeof value === "string");
    save([...load(), {key: newIdempotencyKey(), user: me(), name: form.dataset.outbox, url: form.action, fields}]);
    form.reset();
    tell(form.dataset.outbox, "");
    show();
    flush();
  });
  window.addEventListener("online", flush);
  document.addEventListener("DOMContentLoaded", () => { show(); flush(); });
})();

// An htmx form marked data-idempotent (a vote) sends an Idempotency-Key: the same key while the same
// change waits for its answer (sent again after a lost reply, it is answered once), a new key for a
// new change. The server binds a key to its endpoint and body (intranet/idempotency.py).
(() => {
  const formOf = (event) => event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("[data-idempotent]");
  document.addEventListener("htmx:configRequest", (event) => {
    const form = formOf(event);
    if (!form) return;
    const fields = [...new FormData(form)].filter(([name]) => name !== "csrf_token");
    const change = JSON.stringify([event.detail.path, fields]);
    if (form.dataset.idempotentChange !== change) {
      form.dataset.idempotentChange = change;
      form.dataset.idempotentKey = newIdempotencyKey();
    }
    event.detail.headers["Idempotency-Key"] = form.dataset.idempotentKey;
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    const form = formOf(event);
    if (form && event.detail.xhr && event.detail.xhr.status) delete form.dataset.idempotentChange;  // answered
  });
})();

// A form that sends a file (data-upload: boosted by htmx, see macros.html) shows how much has gone, then
// that the server is checking it; refused (or cut off), it stays as it was, the chosen file included,
// with the reason beside it. Without script it is a plain form.
(() => {
  const formOf = (event) => event.target.closest && event.target.closest("form[data-upload]");
  const part = (form, name) => form.querySelector(`[data-upload-${name}]`);
  const buttons = (form, disabled) => form.querySelectorAll("button[type=submit]").forEach((b) => { b.disabled = disabled; });
  document.addEventListener("htmx:beforeRequest", (event) => {
    const form = formOf(event);
    if (!form) return;
    part(form, "error").hidden = true;
    part(form, "status").querySelector("progress").value = 0;
    part(form, "percent").textContent = "0 %";
    part(form, "status").hidden = false;
    buttons(form, true);
  });
  document.addEventListener("htmx:xhr:progress", (event) => {
    const form = formOf(event);
    if (!form || !event.detail.lengthComputable || !event.detail.total) return;
    const percent = Math.floor((100 * event.detail.loaded) / event.detail.total);
    part(form, "status").querySelector("progress").value = percent;
    part(form, "percent").textContent = percent < 100 ? `${percent} %` : form.dataset.uploadChecking;
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    const form = formOf(event);
    if (!form || event.detail.successful) return;  // on success the next page is on its way
    buttons(form, false);
    part(form, "status").hidden = true;
    const xhr = event.detail.xhr;
    const plain = xhr && xhr.status && (xhr.getResponseHeader("Content-Type") || "").startsWith("text/plain");
    part(form, "error").textContent = plain ? xhr.responseText : form.dataset.uploadLost;
    part(form, "error").hidden = false;
  });
})();
