export { startProbeServer, startProbeIfEnabled, dependencyChecks, runChecks, type ProbeCheck } from "./probe-server.js";
