// The page-side half of the Jitsi stand-in, served after Jitsi's transport bundle as
// https://<stand-in>/external_api.js. Its public surface is a strict subset of the real
// JitsiMeetExternalAPI (checked against real_api.json): it frames the stand-in's conference page and
// talks to it through @jitsi/js-utils' postMessage transport, with jitsi-meet's scope and envelopes —
// commands go out as events named by their wire names, a request asks for the connection stats, the
// frame's events come back by their wire names and reach the page's listeners by their public names.
(() => {
  const {PostMessageTransportBackend, Transport} = window.JitsiTransport;
  const HAS_STATS = __HAS_STATS__;  // false plays a build from before July 2026
  // Public name <-> wire name, as jitsi-meet's apiNameMaps.js pairs them: only those the room page uses.
  const COMMANDS = {setAudioOnly: "set-audio-only", setAssumedBandwidthBps: "set-assumed-bandwidth-bps",
                    setVideoQuality: "set-video-quality", showNotification: "show-notification",
                    toggleRaiseHand: "toggle-raise-hand"};
  const EVENTS = {"audio-only-changed": "audioOnlyChanged", "data-channel-closed": "dataChannelClosed",
                  "error-occurred": "errorOccurred", "p2p-status-changed": "p2pStatusChanged",
                  "peer-connection-failure": "peerConnectionFailure", "raise-hand-updated": "raiseHandUpdated",
                  "suspend-detected": "suspendDetected", "video-conference-joined": "videoConferenceJoined",
                  "video-conference-left": "videoConferenceLeft", "video-quality-changed": "videoQualityChanged",
                  "video-ready-to-close": "readyToClose"};
  let nextId = 0;

  class JitsiMeetExternalAPI {
    #listeners = {};
    #frame;
    #transport;

    constructor(domain, options) {
      const id = nextId++;
      const hash = new URLSearchParams({jitsi_meet_external_api_id: id, lang: options.lang || "",
                                        config: JSON.stringify(options.configOverwrite || {})});
      const url = `https://${domain}/${options.roomName}${options.jwt ? `?jwt=${options.jwt}` : ""}#${hash}`;
      this.#frame = document.createElement("iframe");
      this.#frame.allow = "camera; microphone";
      this.#frame.src = url;
      this.#frame.style.border = "0";
      this.#frame.style.width = "100%";
      this.#frame.style.height = `${options.height}px`;
      options.parentNode.appendChild(this.#frame);
      this.#transport = new Transport({backend: new PostMessageTransportBackend({postisOptions: {
        allowedOrigin: new URL(url).origin, scope: `jitsi_meet_external_api_${id}`, window: this.#frame.contentWindow}})});
      this.#transport.on("event", ({name, ...data}) => {
        (this.#listeners[EVENTS[name]] || []).forEach((handler) => handler(data));
        return name in EVENTS;
      });
    }

    addListener(name, handler) { (this.#listeners[name] = this.#listeners[name] || []).push(handler); }

    executeCommand(name, ...args) { this.#transport.sendEvent({data: args, name: COMMANDS[name]}); }

    getConnectionStats() { return this.#transport.sendRequest({name: "get-connection-stats"}); }

    dispose() {
      this.#transport.dispose();
      this.#frame.remove();
    }
  }
  if (!HAS_STATS) delete JitsiMeetExternalAPI.prototype.getConnectionStats;
  window.JitsiMeetExternalAPI = JitsiMeetExternalAPI;
})();
