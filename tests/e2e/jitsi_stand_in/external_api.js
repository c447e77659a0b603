// A stand-in for Jitsi's external_api.js, served by the browser tests on a loopback domain. Its public
// surface is a strict subset of the real JitsiMeetExternalAPI (checked against real_api.json); the
// test's handle is window.JitsiStandIn: it fires events at the last call, records what the page used,
// and plays an older Jitsi build without getConnectionStats when its stats are set to null.
(() => {
  const standIn = window.JitsiStandIn = window.JitsiStandIn || {};
  standIn.calls = standIn.calls || [];
  standIn.commands = standIn.commands || [];
  standIn.used = standIn.used || {methods: [], events: [], commands: [], options: []};
  if (!("stats" in standIn)) standIn.stats = {connectionQuality: 100, packetLoss: {total: 0}, bitrate: {download: 900}};
  const note = (kind, name) => { if (!standIn.used[kind].includes(name)) standIn.used[kind].push(name); };
  const last = () => standIn.calls[standIn.calls.length - 1];
  standIn.fire = (name, data) => last().fire(name, data);
  standIn.pressRaiseHand = () => last().toggleHand();  // the member's click on Jitsi's own button
  standIn.lastOptions = () => last().options;

  class JitsiMeetExternalAPI {
    #listeners = {};
    #node;
    #hand = 0;  // as Jitsi reports it: the time the hand went up, 0 when down

    constructor(domain, options) {
      Object.keys(options).forEach((key) => note("options", key));
      if (standIn.stats === null) this.getConnectionStats = undefined;  // a build from before July 2026
      this.#node = document.createElement("div");
      this.#node.className = "jitsi-stand-in";
      this.#node.textContent = `Jitsi stand-in: ${domain}/${options.roomName}`;
      options.parentNode.appendChild(this.#node);
      standIn.calls.push({options, fire: (name, data) => this.#fire(name, data), toggleHand: () => this.#toggleHand()});
      setTimeout(() => standIn.fire("videoConferenceJoined", {roomName: options.roomName, id: "local1"}), 50);
    }

    #fire(name, data) { (this.#listeners[name] || []).forEach((h) => h(data)); }

    #toggleHand() {
      this.#hand = this.#hand ? 0 : Date.now();
      this.#fire("raiseHandUpdated", {id: "local1", handRaised: this.#hand});
    }

    addListener(name, handler) {
      note("methods", "addListener");
      note("events", name);
      (this.#listeners[name] = this.#listeners[name] || []).push(handler);
    }

    executeCommand(name, ...args) {
      note("methods", "executeCommand");
      note("commands", name);
      standIn.commands.push([name, ...args]);
      if (name === "toggleRaiseHand") this.#toggleHand();  // Jitsi answers with the event, as for a click
    }

    getConnectionStats() {
      note("methods", "getConnectionStats");
      return Promise.resolve(standIn.stats);
    }

    dispose() {
      note("methods", "dispose");
      this.#node.remove();
    }
  }
  window.JitsiMeetExternalAPI = JitsiMeetExternalAPI;
})();
