// The Jitsi room page: a pre-call check that proposes a start mode, the IFrame API, samples of the
// link every 5 s sent in batches (sendBeacon on leave, the same batch id until acknowledged), and the
// fallback ladder the server's verdict drives: full → low video → audio only → follow-along, with a
// rejoin after a fatal error (back-off), then a backup domain, each step explained in plain words. The
// check also asks each Jitsi server itself, so a server that cannot be reached is not blamed on the link.
(() => {
  // The ladder's rungs, by index: a higher rung asks less of the link.
  const RUNGS = ["full", "low_video", "audio_only", "follow_along"];
  const FULL = 0, LOW_VIDEO = 1, AUDIO_ONLY = 2, FOLLOW_ALONG = 3;
  const MODE_OF = {full: "video", low_video: "low_video", audio_only: "audio", follow_along: "follow"};
  // Jitsi's events logged as they come, for the report (real names: tests/e2e/jitsi_stand_in/real_api.json).
  const LOGGED_EVENTS = ["peerConnectionFailure", "suspendDetected", "p2pStatusChanged", "dataChannelClosed",
                         "audioOnlyChanged", "videoQualityChanged"];
  const SAMPLE_MS = 5000, BACKOFF = [2000, 4000, 8000, 16000, 30000], TRIES_PER_DOMAIN = 3, SERVER_CHECK_MS = 8000;
  const SERVER_TRIPS = 3;
  let page, text, api = null, rung = FULL, domainIndex = 0, failures = 0, dropped = false, unreachable = false;
  let joining = null;  // the watchdog of a call being opened: a server gone silent sends no event at all
  let chosen = false;  // until the member picks a mode, batches claim none
  // The IFrame API has no way to tell which server its script came from: the page remembers, so a
  // join or a rejoin on the same server does not fetch external_api.js again.
  let loadedScript = null;
  // Whether this Jitsi build answers getConnectionStats (builds from July 2026 on), asked once per call;
  // without it the verdict rests on the round trip and the media events below.
  let hasStats = null, mediaTrouble = null;
  // Jitsi's own raise-hand: this member's participant id in the call, and whether their hand is up there.
  // The API lowers only the local hand (toggleRaiseHand), so the page itself lowers it when the
  // intranet says the member was given the floor.
  let myId = null, handUp = false, hadFloor = false;
  let pending = {samples: [], events: []}, inFlight = null;

  const $ = (id) => document.getElementById(id);
  const newId = () => Array.from(crypto.getRandomValues(new Uint8Array(12)),
                                 (b) => b.toString(16).padStart(2, "0")).join("");
  const event = (kind, detail = {}) => { pending.events.push({t: Date.now(), kind, detail}); };

  // --- measuring the link ---------------------------------------------------------------------------
  async function roundTrip() {
    const start = performance.now();
    try {
      await fetch(page.ping, {cache: "no-store", credentials: "same-origin"});
      return performance.now() - start;
    } catch (e) {
      return null;
    }
  }

  // The Jitsi server itself: no-cors HEADs of its external_api.js. Any answer (opaque) means it is up;
  // a refused connection, an unknown name or silence means it cannot be reached from here. An opaque
  // answer still has a time, which needs no CORS: the first pays for the connection, the later ones
  // are the round trip on the path the call takes when Jitsi is hosted elsewhere than the intranet.
  async function serverAnswers(domain) {
    const times = [];
    try {
      for (let i = 0; i < SERVER_TRIPS; i++) {
        const start = performance.now();
        await fetch(page.scripts[domain], {method: "HEAD", mode: "no-cors", cache: "no-store", credentials: "omit",
                                           signal: AbortSignal.timeout(SERVER_CHECK_MS)});
        times.push(performance.now() - start);
      }
    } catch (e) {
      if (!times.length) return {answer: e.name === "TimeoutError" ? "timeout" : "unreachable", rtt: null};
    }
    return {answer: "ok", rtt: Math.min(...(times.length > 1 ? times.slice(1) : times))};
  }

  async function downloadMbps(url, options) {
    try {
      const start = performance.now();
      const body = await (await fetch(url, {cache: "no-store", ...options})).arrayBuffer();
      return (body.byteLength * 8) / ((performance.now() - start) / 1000) / 1e6;
    } catch (e) {
      return null;
    }
  }

  async function precheck() {
    const servers = Promise.all(page.domains.map(serverAnswers));
    const trips = [];
    for (let i = 0; i < 5; i++) trips.push(await roundTrip());
    const good = trips.filter((t) => t !== null).sort((a, b) => a - b);
    const rtt = good.length ? good[Math.floor(good.length / 2)] : null;
    const mbps = await downloadMbps(page.probe, {credentials: "same-origin"});  // null: the link is down
    const info = navigator.connection || {};
    let camera = false, microphone = false;
    try {
      const devices = await navigator.mediaDevices.enumerateDevices();
      camera = devices.some((d) => d.kind === "videoinput");
      microphone = devices.some((d) => d.kind === "audioinput");
    } catch (e) { /* no media devices API */ }
    const checked = await servers;
    const answers = checked.map((c) => c.answer);
    // Only a member who reaches the intranet can tell that the server, not their link, is down.
    const up = rtt === null ? answers.map(() => true) : answers.map((a) => a === "ok");
    const firstUp = up.indexOf(true);
    // The call's path is the worse of the two round trips: to the intranet and to the Jitsi server joined.
    const jitsiRtt = firstUp === -1 ? null : checked[firstUp].rtt;
    const pathRtt = rtt === null ? null : Math.max(rtt, jitsiRtt ?? 0);
    // Where the Jitsi server allows it (CORS on its external_api.js), its download is timed on the
    // call's path too; elsewhere the answer is opaque, its size unknown, and the intranet's figure stands.
    const jitsiMbps = firstUp === -1 ? null : await downloadMbps(page.scripts[page.domains[firstUp]], {
      mode: "cors", credentials: "omit", signal: AbortSignal.timeout(SERVER_CHECK_MS)});
    const pathMbps = mbps === null ? null : Math.min(mbps, jitsiMbps ?? Infinity);
    let proposal = "full";
    if (pathRtt === null || pathMbps === null || pathMbps < 0.15 || pathRtt > 1500) proposal = "follow_along";
    else if (pathMbps < 0.6 || pathRtt > 800 || !camera) proposal = "audio_only";
    else if (pathMbps < 1.5 || pathRtt > 300) proposal = "low_video";
    if (firstUp === -1) {
      proposal = "follow_along";
      serverNotice(text.server_down);
    } else if (firstUp > 0) {
      domainIndex = firstUp;
      serverNotice(text.server_backup.replace("{domain}", page.domains[firstUp]));
    }
    const round = (x) => x && Math.round(x * 100) / 100;
    const result = {rtt: rtt && Math.round(rtt), jitsiRtt: jitsiRtt && Math.round(jitsiRtt),
                    mbps: round(mbps), jitsiMbps: round(jitsiMbps),
                    effectiveType: info.effectiveType || null, downlink: info.downlink ?? null, camera,
                    microphone, proposed: proposal,
                    servers: Object.fromEntries(page.domains.map((d, i) => [d, answers[i]]))};    event("precheck", result);
    $("precheck-result").textContent =
      `${rtt === null ? "—" : Math.round(rtt) + " ms"}${jitsiRtt === null ? "" : ` (Jitsi ${result.jitsiRtt} ms)`} · ` +
      `${mbps === null ? "—" : result.mbps + " Mbps"}${jitsiMbps === null ? "" : ` (Jitsi ${result.jitsiMbps} Mbps)`} · ` +
      `${text[camera ? "camera" : "no_camera"]}, ${text[microphone ? "microphone" : "no_microphone"]} → ${text[proposal]}`;
    $("precheck-result").dataset.proposed = proposal;
    document.querySelector(`input[name=mode][value=${proposal}]`).checked = true;
    $("modes").hidden = false;
    $("join").hidden = false;
    send();
  }

  function serverNotice(message) {
    $("server-notice-text").textContent = message;
    $("server-notice").hidden = false;
  }

  // --- the call -------------------------------------------------------------------------------------
  function loadApi(domain) {
    const src = page.scripts[domain];
    return new Promise((resolve, reject) => {
      if (window.JitsiMeetExternalAPI && loadedScript === src) return resolve();
      const script = document.createElement("script");
      script.src = src;
      const give = setTimeout(() => reject(new Error("timeout")), 10000);
      script.onload = () => { clearTimeout(give); loadedScript = src; resolve(); };
      script.onerror = () => { clearTimeout(give); reject(new Error("unreachable")); };
      document.head.appendChild(script);
    });
  }

  async function join() {
    const domain = page.domains[domainIndex];
    if (!domain) return stepTo(FOLLOW_ALONG, unreachable ? "why_server_down" : "why_follow_along");
    try {
      // A rejoin asks the server first: one that went down mid-meeting opens no call and says nothing.
      if (dropped && (await serverAnswers(domain)).answer !== "ok") throw new Error("unreachable");
      await loadApi(domain);
      const answer = await (await fetch(`${page.token}?domain=${encodeURIComponent(domain)}`,
                                        {cache: "no-store", credentials: "same-origin"})).json();
      if (answer.error) throw new Error(answer.error);
      $("jitsi").hidden = false;
      api = new window.JitsiMeetExternalAPI(domain, {
        roomName: answer.room, jwt: answer.jwt || undefined, parentNode: $("jitsi"), width: "100%", height: 560,
        userInfo: {displayName: page.name}, lang: page.lang,
        configOverwrite: {startAudioOnly: rung >= AUDIO_ONLY, startWithVideoMuted: rung >= AUDIO_ONLY, prejoinConfig: {enabled: false}},
      });
      hasStats = typeof api.getConnectionStats === "function";
      listen(api);
      applyRung();
      clearTimeout(joining);
      joining = setTimeout(() => drop({name: "join.timeout", type: "CONNECTION", isFatal: true}), page.joinMs);
    } catch (e) {
      event("error", {name: "load", message: String(e.message || e), domain});
      unreachable = true;
      nextDomain();
    }
  }

  async function nextDomain() {
    // Given up on this server after drops: if it no longer answers while the intranet does, the server is
    // down, not the member's link, and the page says so.
    if (!unreachable && (await serverAnswers(page.domains[domainIndex])).answer !== "ok" && (await roundTrip()) !== null) {
      unreachable = true;
    }
    domainIndex += 1;
    failures = 0;
    if (domainIndex < page.domains.length) {
      event("ladder", {step: "backup", domain: page.domains[domainIndex]});
      say("why_backup");
      join();
    } else {
      stepTo(FOLLOW_ALONG, unreachable ? "why_server_down" : "why_follow_along");
    }
  }

  function listen(target) {
    const on = (name, handler) => target.addListener(name, handler);
    on("videoConferenceJoined", (e) => {
      clearTimeout(joining);
      myId = e && e.id;
      handUp = false;  // a new call starts with the hand down; the speakers list keeps its turn
      event(dropped ? "reconnected" : "joined", {domain: page.domains[domainIndex]});
      event("info", {name: "signals", stats: hasStats});
      dropped = unreachable = false;
      failures = 0;
      send();
    });
    on("videoConferenceLeft", () => { event("left"); send(); });
    on("readyToClose", () => { event("left", {reason: "readyToClose"}); send(); });
    on("errorOccurred", (e) => {
      const detail = {name: e && e.error ? e.error.name : e && e.name, type: e && (e.error ? e.error.type : e.type),
                      isFatal: !!(e && (e.error ? e.error.isFatal : e.isFatal))};
      if (detail.isFatal) drop(detail); else event("error", detail);
    });
    for (const name of LOGGED_EVENTS) {
      on(name, (e) => event("info", {name, value: JSON.stringify(e || {}).slice(0, 150)}));
    }
    // Without getConnectionStats, the media path's own failures are the signal: a failed peer
    // connection (sent only where rtcstats is on) is worse than a closed bridge channel.
    on("peerConnectionFailure", () => { mediaTrouble = "failed"; });
    on("dataChannelClosed", () => { if (mediaTrouble !== "failed") mediaTrouble = "interrupted"; });
    // handRaised is the time it went up (0 when lowered) — a boolean on older builds; every
    // participant's hand is reported, so only this member's own counts.
    on("raiseHandUpdated", (e) => {
      if (!e || e.id !== myId || !!e.handRaised === handUp) return;
      handUp = !!e.handRaised;
      event("hand", {raised: handUp});
      send();
    });
  }

  function drop(detail) {
    clearTimeout(joining);
    event("dropped", detail);
    dropped = true;
    send();
    if (api) { try { api.dispose(); } catch (e) { /* already gone */ } api = null; }
    failures += 1;
    if (failures > TRIES_PER_DOMAIN) return nextDomain();
    say("why_rejoin");
    setTimeout(join, BACKOFF[Math.min(failures - 1, BACKOFF.length - 1)]);  // not a reconnect storm
  }

  // --- the ladder -----------------------------------------------------------------------------------
  function say(key) {
    $("ladder").textContent = text[key];
    $("ladder").hidden = false;
  }

  function applyRung() {
    if (!api) return;
    api.executeCommand("setAudioOnly", rung >= AUDIO_ONLY);
    api.executeCommand("setVideoQuality", rung >= LOW_VIDEO ? 180 : 720);
    if (rung >= LOW_VIDEO) api.executeCommand("setAssumedBandwidthBps", rung >= AUDIO_ONLY ? 64000 : 250000);
  }

  function stepTo(target, why) {
    if (target === rung) return;
    const previous = rung;
    rung = target;
    event("ladder", {from: RUNGS[previous], to: RUNGS[rung]});
    if (why) say(why);
    $("step-up").hidden = rung === FULL;
    if (rung === FOLLOW_ALONG) {
      clearTimeout(joining);
      if (api) { try { api.dispose(); } catch (e) { /* gone */ } api = null; }
      $("jitsi").hidden = true;
      $("follow").hidden = false;
    } else if (previous === 3) {
      $("follow").hidden = true;
      join();
    } else {
      applyRung();
    }
    send();
  }

  function heardFloor(floor) {
    if (!api) return;
    if (floor && !hadFloor) {
      if (handUp) api.executeCommand("toggleRaiseHand");
      api.executeCommand("showNotification", {title: text.floor, uid: "intranet-floor", type: "success",
                                              timeout: "medium"});
    }
    hadFloor = floor;
  }

  // --- samples and batches --------------------------------------------------------------------------
  async function sample() {
    const item = {t: Date.now(), rtt: await roundTrip()};
    const info = navigator.connection;
    if (info && typeof info.downlink === "number") item.downlink = info.downlink;
    if (mediaTrouble) { item.media = mediaTrouble; mediaTrouble = null; }
    if (api && hasStats) {
      try {
        const stats = await api.getConnectionStats();
        if (stats) {
          if (typeof stats.connectionQuality === "number") item.quality = stats.connectionQuality;
          if (stats.packetLoss && typeof stats.packetLoss.total === "number") item.loss = stats.packetLoss.total;
          if (stats.bitrate && typeof stats.bitrate.download === "number") item.bitrate = stats.bitrate.download;
        }
      } catch (e) { /* this Jitsi build has no stats */ }
    }
    if (item.rtt === null) delete item.rtt;
    pending.samples.push(item);
    send();
  }

  function takeBatch() {
    if (!inFlight && (pending.samples.length || pending.events.length)) {
      inFlight = {batch: newId(), token: page.ingestToken, mode: chosen ? MODE_OF[RUNGS[rung]] : undefined,
                  samples: pending.samples.splice(0, 60), events: pending.events.splice(0, 60)};
    }
    return inFlight;
  }

  async function send() {
    const batch = takeBatch();
    if (!batch || batch.sending) return;
    batch.sending = true;
    try {
      const response = await fetch(page.ingest, {method: "POST", credentials: "same-origin", body: JSON.stringify(batch),
                                                 headers: {"Content-Type": "application/json"}});
      if (response.status >= 500) throw new Error(String(response.status));
      inFlight = null;  // taken (or refused for good): the next batch gets a new id
      if (response.ok) {
        const verdict = await response.json();
        heardFloor(verdict.floor === true);
        const advised = RUNGS.indexOf(verdict.advice);
        if (api && advised > rung && rung < FOLLOW_ALONG && !dropped) stepTo(advised, `why_${verdict.advice}`);
      }
      if (pending.samples.length || pending.events.length) send();
    } catch (e) {
      batch.sending = false;  // kept with its id: sent again, counted once
    }
  }

  function start() {
    const root = $("room");
    if (!root) return;
    page = JSON.parse(root.dataset.page);
    text = JSON.parse(root.dataset.text);
    $("join").addEventListener("click", () => {
      chosen = true;
      $("precheck").hidden = true;
      rung = RUNGS.indexOf(document.querySelector("input[name=mode]:checked").value);
      $("step-up").hidden = rung === FULL;
      if (rung === FOLLOW_ALONG) { $("follow").hidden = false; event("ladder", {to: "follow_along", chosen: true}); send(); }
      else join();
      setInterval(sample, SAMPLE_MS);
    });
    $("step-up").addEventListener("click", () => { if (rung > FULL) stepTo(rung - 1, null); $("ladder").hidden = true; });
    window.addEventListener("pagehide", () => {
      event("left", {reason: "pagehide"});
      const beacon = (batch) => navigator.sendBeacon(page.ingest, new Blob([JSON.stringify(batch)],
                                                                           {type: "application/json"}));
      if (inFlight) { beacon(inFlight); inFlight = null; }  // same id as the fetch under way: counted once
      const last = takeBatch();
      if (last) beacon(last);
    });
    // The pre-call test through TURN (precall.js, where the office set a TURN server) is logged with the check.
    document.addEventListener("meetings:precall", (e) => { event("precall", e.detail); send(); });
    precheck();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
