// The conference side of the Jitsi stand-in: the page jitsi-meet would serve in the iframe. It answers
// the external API over @jitsi/js-utils' transport (scope from the URL's jitsi_meet_external_api_id),
// joins at once, keeps the commands it receives by their wire names, answers the connection-stats
// request, and lowers or raises the local hand on "toggle-raise-hand" as Jitsi does. The test's handle
// is window.StandIn, in this frame: fire(wireName, data), pressRaiseHand(), commands, stats, options.
(() => {
  const {PostMessageTransportBackend, Transport} = window.JitsiTransport;
  const hash = new URLSearchParams(location.hash.slice(1));
  const transport = new Transport({backend: new PostMessageTransportBackend({postisOptions: {
    scope: `jitsi_meet_external_api_${hash.get("jitsi_meet_external_api_id")}`}})});
  const LOCAL_ID = "local1";
  let hand = 0;  // as Jitsi reports it: the time the hand went up, 0 when down
  const standIn = window.StandIn = {
    commands: [],
    stats: {connectionQuality: 100, packetLoss: {total: 0}, bitrate: {download: 900}},
    options: {room: decodeURIComponent(location.pathname.slice(1)), lang: hash.get("lang"),
              config: JSON.parse(hash.get("config") || "{}")},
    fire: (name, data = {}) => transport.sendEvent({name, ...data}),
    pressRaiseHand() {
      hand = hand ? 0 : Date.now();
      standIn.fire("raise-hand-updated", {id: LOCAL_ID, handRaised: hand});
    },
  };
  document.getElementById("conference").textContent = `Jitsi stand-in: ${location.host}/${standIn.options.room}`;
  transport.on("event", ({name, data}) => {
    standIn.commands.push([name, ...(data || [])]);
    if (name === "toggle-raise-hand") standIn.pressRaiseHand();
    return true;
  });
  transport.on("request", (request, callback) => {
    if (request.name !== "get-connection-stats") return false;
    callback(standIn.stats);
    return true;
  });
  standIn.fire("video-conference-joined", {id: LOCAL_ID, roomName: standIn.options.room});
})();
