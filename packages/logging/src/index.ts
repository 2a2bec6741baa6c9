export { createLogger, redactUrl, type Logger } from "./create-logger.js";
export { exitOnStartupError } from "./startup-guard.js";
