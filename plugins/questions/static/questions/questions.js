// The question queue in the browser: marks the member's own votes and questions in the shared live
// regions, shows refusals and runs the speaker's clock.
(() => {
  const root = () => document.querySelector("[data-my-votes]");
  const ids = (el, name) => new Set(JSON.parse((el && el.dataset[name]) || "[]"));

  function mark() {
    const el = root();
    if (!el) return;
    const mine = el.querySelector("[data-mine-ids]");
    if (mine) el.dataset.mine = mine.dataset.mineIds;
    const votes = ids(el, "myVotes"), own = ids(el, "mine");
    el.querySelectorAll("[data-question]").forEach((item) => {
      const id = Number(item.dataset.question);
      const button = item.querySelector(".vote-button");
      if (!button) return;
      button.setAttribute("aria-pressed", votes.has(id) ? "true" : "false");
      const wanted = item.querySelector('.vote input[name="on"]');  // a click asks for the other state
      if (wanted) wanted.value = votes.has(id) ? "0" : "1";
      if (own.has(id)) {
        button.disabled = true;
        button.title = el.dataset.ownLabel;
      }
    });
  }

  function say(text) {
    const box = document.getElementById("questions-message");
    if (!box) return;
    box.textContent = text;
    box.hidden = !text;
  }

  function voted(id, on) {
    const el = root();
    if (!el) return;
    const votes = ids(el, "myVotes");
    if (on) votes.add(id); else votes.delete(id);
    el.dataset.myVotes = JSON.stringify([...votes]);
    mark();
  }

  document.addEventListener("questions:voted", (event) => voted(event.detail.id, event.detail.on));
  // A vote sent again after a lost reply is answered "already done" without the trigger: the state
  // it asked for is the state now.
  document.addEventListener("htmx:configRequest", (event) => {
    const form = event.detail.elt.closest && event.detail.elt.closest("form.vote");
    if (form) form.dataset.sent = form.querySelector('input[name="on"]').value;
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    const form = event.detail.elt.closest && event.detail.elt.closest("form.vote");
    const xhr = event.detail.xhr;
    if (form && event.detail.successful && xhr.getResponseHeader("Idempotent-Replayed") === "true") {
      voted(Number(form.closest("[data-question]").dataset.question), form.dataset.sent === "1");
    }
  });
  document.addEventListener("htmx:responseError", (event) => say(event.detail.xhr.responseText));
  document.addEventListener("htmx:afterRequest", (event) => { if (event.detail.successful) say(""); });
  document.addEventListener("live:swapped", mark);

  function clocks() {
    document.querySelectorAll("[data-since]").forEach((el) => {
      const seconds = Math.max(0, Math.floor((Date.now() - Date.parse(el.dataset.since)) / 1000));
      el.textContent = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
    });
  }
  setInterval(clocks, 1000);
  document.addEventListener("DOMContentLoaded", () => { mark(); clocks(); });
})();
