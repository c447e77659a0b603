// A vote's countdown: each element data-countdown="<ISO close time>" shows the minutes and seconds
// left, then its data-countdown-over text. The server refuses a late ballot whatever the page says.
(() => {
  function tick() {
    document.querySelectorAll("[data-countdown]").forEach((el) => {
      const left = Math.round((Date.parse(el.dataset.countdown) - Date.now()) / 1000);
      el.textContent = left > 0 ? `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}` : el.dataset.countdownOver;
    });
  }
  // The panel is one render for everyone: the buttons a member can no longer use (voted, or may not
  // vote) are hidden here, from what their own part of the page says.
  function settle() {
    const refused = Boolean(document.getElementById("may-not-vote"));
    document.querySelectorAll(".vote .ballot").forEach((buttons) => {
      const vote = buttons.closest(".vote").id.replace("vote-", "");
      buttons.hidden = refused || Boolean(document.querySelector(`#mine-${vote}[data-voted]`));
    });
  }
  document.addEventListener("DOMContentLoaded", () => { tick(); settle(); setInterval(tick, 1000); });
  document.addEventListener("live:swapped", () => { tick(); settle(); });  // a region just arrived: no blank second
})();

// The chair's and the committee's actions are htmx forms (their regions are shared renders whose token
// field is empty in live frames; htmx sends the token in a header): a refusal's reason is shown above.
(() => {
  const mine = (event) => event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("[data-votes]");
  function say(text) {
    const box = document.getElementById("votes-message");
    if (!box) return;
    box.textContent = text;
    box.hidden = !text;
  }
  document.addEventListener("htmx:responseError", (event) => { if (mine(event)) say(event.detail.xhr.responseText); });
  document.addEventListener("htmx:afterRequest", (event) => { if (mine(event) && event.detail.successful) say(""); });
})();
