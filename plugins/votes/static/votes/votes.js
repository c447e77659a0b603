// A vote's countdown: each element data-countdown="<ISO close time>" shows the minutes and seconds
// left, then its data-countdown-over text. The server refuses a late ballot whatever the page says.
(() => {
  function tick() {
    document.querySelectorAll("[data-countdown]").forEach((el) => {
      const left = Math.round((Date.parse(el.dataset.countdown) - Date.now()) / 1000);
      el.textContent = left > 0 ? `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}` : el.dataset.countdownOver;
    });
  }
  document.addEventListener("DOMContentLoaded", () => { tick(); setInterval(tick, 1000); });
  document.addEventListener("live:swapped", tick);  // a region just arrived: no blank second
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
