export type { Clock } from "./clock.ts";
export { systemClock } from "./clock.ts";
export type { Config, ServerSecrets } from "./config/config.ts";
export { ConfigError } from "./config/config-error.ts";
export { loadConfig, loadDatabaseConfig } from "./config/load-config.ts";
export type { AppDeps } from "./http/build-app.ts";
export { buildApp } from "./http/build-app.ts";
export type { RunningServer } from "./server.ts";
export { startServer } from "./server.ts";
