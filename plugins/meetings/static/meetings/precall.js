// The pre-call test through the office's TURN server, with Jitsi's @jitsi/precall-test (vendored:
// vendor/precall-test.min.js). The module connects two peer connections of this page to each other
// through the TURN server only (relay candidates) and measures that path: whether media gets through,
// round trip, jitter, loss and throughput. UDP is tried first; where it does not get through, TCP/TLS,
// which is what the call itself then falls back to. Each result is shown with what it means, and the
// start mode proposed by the check above moves down when this test advises a lower one; room.js logs it.
(() => {
  const RUNGS = ["full", "low_video", "audio_only", "follow_along"];
  const RUN_MS = 60000;  // the module gives up after 30 s without a connection; this bounds a stuck run
  const RTT_SLOW_MS = 300, LOSS_HIGH = 0.1, JITTER_HIGH_MS = 30, VIDEO_KBPS = 500;
  let section, text, running = null, joined = false;

  const $ = (id) => document.getElementById(id);
  const fill = (key, values = {}) => text[key].replace(/\{(\w+)\}/g, (_, name) => values[name]);
  const overTcp = (url) => /^turns:/i.test(url) || /transport=tcp/i.test(url);

  async function credentials() {
    const answer = await fetch(section.dataset.turn, {cache: "no-store", credentials: "same-origin"});
    if (!answer.ok) throw new Error((await answer.json().catch(() => ({}))).error || answer.statusText);
    return (await answer.json()).iceServers;
  }

  // One run of the module through the given URLs; null when nothing got through.
  async function run(server, urls) {
    if (!urls.length || joined) return null;
    running = new window.JitsiPreCallTest();
    const stop = new Promise((resolve) => setTimeout(resolve, RUN_MS)).then(() => running.callStarts());
    try {
      const result = await Promise.race([running.start([{...server, urls}]), stop.then(() => null)]);
      return result && result.mediaConnectivity ? result : null;
    } catch (e) {
      return null;  // "Connection timeout", "ICE failure": no relayed path on these URLs
    } finally {
      running = null;
    }
  }

  function line(message, meaning) {
    const item = document.createElement("li");
    item.textContent = meaning ? `${message} ${meaning}` : message;
    $("precall-results").append(item);
  }

  // What each figure means for the call, and the lowest start it allows.
  function explain(result, path) {
    let advice = "full";
    const lower = (rung) => { if (RUNGS.indexOf(rung) > RUNGS.indexOf(advice)) advice = rung; };
    line(text[path]);
    if (path === "no_connection") return "follow_along";
    if (result.rtt !== null) {
      const slow = result.rtt > RTT_SLOW_MS;
      line(fill("rtt", {ms: Math.round(result.rtt)}), text[slow ? "rtt_slow" : "rtt_good"]);
      if (slow) lower("low_video");
    }
    if (result.jitter !== null && result.jitter > JITTER_HIGH_MS) {
      line(fill("jitter", {ms: Math.round(result.jitter)}), text.jitter_high);
    }
    if (result.fractionalLoss !== null) {
      const high = result.fractionalLoss > LOSS_HIGH;
      line(fill("loss", {pct: `${Math.round(result.fractionalLoss * 1000) / 10}%`}), text[high ? "loss_high" : "loss_good"]);
      if (high) lower("audio_only");
    }
    if (result.throughput !== null) {
      const low = result.throughput < VIDEO_KBPS;
      line(fill("throughput", {kbps: Math.round(result.throughput)}), text[low ? "throughput_low" : "throughput_good"]);
      if (low) lower("audio_only");
    }
    return advice;
  }

  // The check above proposes a start when it ends; this test only ever moves it down.
  async function advise(rung) {
    while (!document.querySelector("input[name=mode]:checked")) await new Promise((r) => setTimeout(r, 250));
    const chosen = document.querySelector("input[name=mode]:checked").value;
    if (RUNGS.indexOf(rung) > RUNGS.indexOf(chosen)) document.querySelector(`input[name=mode][value=${rung}]`).checked = true;
    line(fill("advice", {mode: document.querySelector(`input[name=mode][value=${rung}]`).parentElement.textContent.trim()}));
  }

  async function test() {
    let server;
    try {
      server = (await credentials())[0];
    } catch (e) {
      $("precall-status").textContent = fill("failed", {reason: e.message});
      return;
    }
    const urls = server.urls.filter((u) => /^turns?:/i.test(u));
    const udp = urls.filter((u) => !overTcp(u)), tcp = urls.filter(overTcp);
    let result = await run(server, udp), path = "connected";
    if (!result) {
      result = await run(server, tcp);
      path = result ? (udp.length ? "no_udp" : "connected") : "no_connection";
    }
    if (joined) return;
    section.dataset.path = path;
    $("precall-status").hidden = true;
    $("precall-results").hidden = false;
    const advice = explain(result, path);
    const figure = (name, digits = 0) => (result && result[name] !== null ? +result[name].toFixed(digits) : null);
    document.dispatchEvent(new CustomEvent("meetings:precall", {detail: {
      path, advice, rtt: figure("rtt"), jitter: figure("jitter"), loss: figure("fractionalLoss", 3),
      kbps: figure("throughput")}}));
    await advise(advice);
  }

  document.addEventListener("DOMContentLoaded", () => {
    section = $("precall");
    text = JSON.parse(section.dataset.text);
    // The call needs the link: a test still running stops when the member joins.
    $("join").addEventListener("click", () => {
      joined = true;
      if (running) running.callStarts();
    });
    test();
  });
})();
