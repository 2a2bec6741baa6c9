export { startProbeServer, startProbeIfEnabled, type ProbeCheck } from "./probe-server.js";
