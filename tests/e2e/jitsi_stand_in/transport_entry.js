// The bundle's entry: @jitsi/js-utils' transport, the one jitsi-meet's external_api.js and its iframe
// talk through, exposed to the stand-in's plain scripts.
export {PostMessageTransportBackend, Transport} from "@jitsi/js-utils/transport";
