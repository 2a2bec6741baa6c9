export { loadConfig, ConfigError } from "./load-config.js";
export { BoolEnv, CommaList, JsonEnv } from "./env-helpers.js";
export { pgEnv, kafkaEnv, redisEnv, logEnv, httpEnv, probeEnv, currencyEnv, consentEnv, ratesOf, secretKeys } from "./fragments.js";
