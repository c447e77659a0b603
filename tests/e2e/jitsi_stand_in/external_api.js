// A stand-in for Jitsi's external_api.js, served by the browser tests on a loopback domain: the part
// of the IFrame API the room page uses, with a handle for the test to fire events and read commands.
(() => {
  class JitsiMeetExternalAPI {
    constructor(domain, options) {
      this.domain = domain;
      this.options = options;
      this.listeners = {};
      this.disposed = false;
      this.node = document.createElement("div");
      this.node.className = "jitsi-stand-in";
      this.node.textContent = `Jitsi stand-in: ${domain}/${options.roomName}`;
      options.parentNode.appendChild(this.node);
      window.JitsiStandIn.instances.push(this);
      setTimeout(() => this.fire("videoConferenceJoined", {roomName: options.roomName}), 50);
    }
    addListener(name, handler) { (this.listeners[name] = this.listeners[name] || []).push(handler); }
    addEventListener(name, handler) { this.addListener(name, handler); }
    fire(name, data) { (this.listeners[name] || []).forEach((h) => h(data)); }
    executeCommand(name, ...args) { window.JitsiStandIn.commands.push([name, ...args]); }
    getConnectionStats() { return Promise.resolve(window.JitsiStandIn.stats); }
    dispose() { this.disposed = true; this.node.remove(); }
  }
  JitsiMeetExternalAPI.domain = document.currentScript ? new URL(document.currentScript.src).host : "";
  window.JitsiStandIn = window.JitsiStandIn || {
    instances: [], commands: [],
    stats: {connectionQuality: 100, packetLoss: {total: 0}, bitrate: {download: 900}},
    get last() { return this.instances[this.instances.length - 1]; },
  };
  window.JitsiMeetExternalAPI = JitsiMeetExternalAPI;
})();
