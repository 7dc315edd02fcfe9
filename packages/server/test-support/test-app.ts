import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import type { AgentKeyResolver } from "../src/agent-auth/agent-request.ts";
import type { AppServices } from "../src/app-services.ts";
import type { Clock } from "../src/clock.ts";
import type { Config } from "../src/config/config.ts";
import { loadConfig } from "../src/config/load-config.ts";
import type { Database } from "../src/db/database.ts";
import { buildApp } from "../src/http/build-app.ts";

/**
 * A configuration for tests: test mode, secrets generated in a temporary directory that is
 * removed when the test file ends, and whatever variables the test sets.
 */
export function createTestConfig(env: Record<string, string> = {}): Config {
  const cwd = mkdtempSync(join(tmpdir(), "cs-test-"));
  after(() => rmSync(cwd, { recursive: true, force: true }));
  return loadConfig({ COUNTERSIGN_ENV: "test", ...env }, { cwd });
}

/** Builds the app on a test database with logging off. */
export async function createTestApp(
  db: Database,
  options: {
    config?: Config;
    clock?: Clock;
    resolveAgentKey?: AgentKeyResolver;
    /** Replaces services built from the config (a capturing mailer, a fake data-key store…). */
    services?: Partial<AppServices>;
  } = {},
) {
  return buildApp({
    config: options.config ?? createTestConfig(),
    db,
    logLevel: "silent",
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.resolveAgentKey ? { resolveAgentKey: options.resolveAgentKey } : {}),
    ...(options.services ? { services: options.services } : {}),
  });
}
