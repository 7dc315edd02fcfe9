import type { Clock } from "./clock.ts";
import { systemClock } from "./clock.ts";
import type { Config } from "./config/config.ts";
import type { Database } from "./db/database.ts";

/**
 * The services every domain's routes are built from, created once per process and passed down
 * explicitly (no module-level singletons). Each domain adds its service here with one field and
 * one line in {@link createAppServices}; tests replace any of them through `overrides`.
 */
export interface AppServices {
  readonly config: Config;
  readonly db: Database;
  readonly clock: Clock;
}

/** The parts services are built from. */
export interface AppServicesBase {
  readonly config: Config;
  readonly db: Database;
  readonly clock?: Clock;
}

/** Builds every service from the configuration and the database. */
export function createAppServices(base: AppServicesBase, overrides: Partial<AppServices> = {}): AppServices {
  const clock = base.clock ?? systemClock;
  const services: AppServices = {
    config: base.config,
    db: base.db,
    clock,
  };
  return { ...services, ...overrides };
}
