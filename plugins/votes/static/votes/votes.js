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
})();
