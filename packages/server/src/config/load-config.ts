import { isIP } from "node:net";
import { resolve } from "node:path";
import { type Config, LOG_LEVELS } from "./config.ts";
import { ConfigError } from "./config-error.ts";
import { EnvReader } from "./env-reader.ts";
import { loadServerSecrets } from "./server-secrets.ts";

/** Options that are not configuration but facts about where the process runs. */
export interface LoadConfigOptions {
  /** Relative paths (the data directory) resolve against this; defaults to `process.cwd()`. */
  cwd?: string;
}

const HOST =
  /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/;

/**
 * Reads and validates the whole configuration once, at start (DESIGN §5), and returns it frozen.
 * Nothing else in the server reads the environment. Throws a {@link ConfigError} that lists every
 * problem. With an empty environment the result is the embedded mode: PGlite and generated
 * secrets in `./.countersign/`, served at http://localhost:8787.
 *
 * The variables are documented in the README's configuration table.
 */
export function loadConfig(
  environment: Readonly<Record<string, string | undefined>>,
  options: LoadConfigOptions = {},
): Config {
  const env = new EnvReader(environment);
  const nodeEnv = env.string("NODE_ENV") === "production" ? "production" : "development";
  const mode = env.oneOf("COUNTERSIGN_ENV", ["production", "development", "test"], nodeEnv);
  const production = mode === "production";

  const dataDir = resolve(options.cwd ?? process.cwd(), env.string("COUNTERSIGN_DATA_DIR") ?? ".countersign");
  const port = env.integer("COUNTERSIGN_PORT", env.integer("PORT", 8787, 1, 65_535), 1, 65_535);
  const listenHost = env.string("COUNTERSIGN_LISTEN_HOST") ?? "localhost";
  const publicUrl = env.url("COUNTERSIGN_PUBLIC_URL", `http://localhost:${port}`, ["http:", "https:"]);
  if (publicUrl.pathname !== "/" || publicUrl.search !== "" || publicUrl.hash !== "" || publicUrl.username !== "") {
    env.problems.push("COUNTERSIGN_PUBLIC_URL must be an origin only (scheme, host and port; no path)");
  }
  if (production && publicUrl.protocol !== "https:") {
    env.problems.push("COUNTERSIGN_PUBLIC_URL must use https in production");
  }
  const appHost = host(env, "COUNTERSIGN_APP_HOST", publicUrl.host);
  const apiHost = host(env, "COUNTERSIGN_API_HOST", publicUrl.host);

  const database = readDatabase(env, { production, dataDir });
  const trustProxy = env.list("COUNTERSIGN_TRUST_PROXY");
  for (const entry of trustProxy) {
    if (!isAddressOrCidr(entry)) env.problems.push("COUNTERSIGN_TRUST_PROXY must list IP addresses or CIDR ranges");
  }

  const config = {
    environment: mode,
    database,
    dataDir,
    listen: { host: listenHost, port },
    publicUrl: publicUrl.origin,
    appHost,
    apiHost,
    apiBaseUrl: `${publicUrl.protocol}//${apiHost}`,
    trustProxy,
    bodyLimitBytes: env.integer("COUNTERSIGN_BODY_LIMIT", 65_536, 1_024, 1_048_576),
    logLevel: env.oneOf("COUNTERSIGN_LOG_LEVEL", LOG_LEVELS, "info"),
    signatures: { maxSkewSeconds: 300, nonceTtlSeconds: 600 },
    shutdownTimeoutMs: env.integer("COUNTERSIGN_SHUTDOWN_TIMEOUT_MS", 10_000, 0, 120_000),
    // Secrets last: a bad port should not leave a generated secrets file behind.
    secrets: env.problems.length === 0 ? loadServerSecrets(env, { production, dataDir }) : undefined,
  };

  if (env.problems.length > 0 || config.secrets === undefined) throw new ConfigError(env.problems);
  return deepFreeze(config) as Config;
}

/**
 * Only the database part of the configuration, for commands that need no secrets
 * (`countersign migrate` in a deploy job).
 */
export function loadDatabaseConfig(
  environment: Readonly<Record<string, string | undefined>>,
  options: LoadConfigOptions = {},
): Pick<Config, "database" | "dataDir"> {
  const env = new EnvReader(environment);
  const dataDir = resolve(options.cwd ?? process.cwd(), env.string("COUNTERSIGN_DATA_DIR") ?? ".countersign");
  const database = readDatabase(env, { production: false, dataDir });
  if (env.problems.length > 0) throw new ConfigError(env.problems);
  return deepFreeze({ database, dataDir });
}

function readDatabase(env: EnvReader, options: { production: boolean; dataDir: string }): Config["database"] {
  const databaseUrl = env.string("DATABASE_URL");
  if (databaseUrl !== undefined && !/^postgres(?:ql)?:\/\//.test(databaseUrl)) {
    env.problems.push("DATABASE_URL must be a postgres:// or postgresql:// URL");
  }
  if (options.production && databaseUrl === undefined) {
    env.problems.push("production needs PostgreSQL: set DATABASE_URL (the embedded database is for development)");
  }
  const poolSize = env.integer("COUNTERSIGN_DATABASE_POOL_SIZE", 10, 1, 200);
  return databaseUrl === undefined
    ? { kind: "embedded", dataDir: options.dataDir }
    : { kind: "postgres", url: databaseUrl, poolSize };
}

function host(env: EnvReader, name: string, fallback: string): string {
  const value = (env.string(name) ?? fallback).toLowerCase();
  if (!HOST.test(value)) env.problems.push(`${name} must be a host name with an optional port`);
  return value;
}

function isAddressOrCidr(entry: string): boolean {
  const [address, bits, extra] = entry.split("/");
  if (address === undefined || extra !== undefined) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

function deepFreeze<T>(value: T): T {
  // Typed arrays and maps cannot be frozen; their types are read-only instead.
  if (typeof value !== "object" || value === null || ArrayBuffer.isView(value) || value instanceof Map) return value;
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return Object.freeze(value);
}
