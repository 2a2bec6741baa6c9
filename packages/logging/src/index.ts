export { createLogger, redactUrl, type Logger } from "./create-logger.js";
