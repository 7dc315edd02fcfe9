import { createECDH, createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
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

  const metricsAllow = env.list("COUNTERSIGN_METRICS_ALLOW");
  for (const entry of metricsAllow) {
    if (!isAddressOrCidr(entry)) env.problems.push("COUNTERSIGN_METRICS_ALLOW must list IP addresses or CIDR ranges");
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
    webauthn: {
      rpId: appHost.replace(/:\d+$/, ""),
      rpName: env.string("COUNTERSIGN_RP_NAME") ?? "Countersign",
      origin: `${publicUrl.protocol}//${appHost}`,
    },
    mail: readMail(env, { production, appHost }),
    sessions: {
      idleTimeoutSeconds: env.integer("COUNTERSIGN_SESSION_IDLE_MINUTES", 30, 1, 10_080) * 60,
      absoluteTimeoutSeconds: env.integer("COUNTERSIGN_SESSION_ABSOLUTE_HOURS", 12, 1, 720) * 3_600,
    },
    auth: {
      minDurationMs: env.integer("COUNTERSIGN_AUTH_MIN_DURATION_MS", 400, 0, 10_000),
      stepUpMaxAgeSeconds: 300,
      passwordLogin: env.boolean("COUNTERSIGN_PASSWORD_LOGIN", false),
      argon2: {
        memoryKiB: env.integer("COUNTERSIGN_ARGON2_MEMORY_KIB", 19_456, 19_456, 4_194_304),
        iterations: env.integer("COUNTERSIGN_ARGON2_ITERATIONS", 2, 2, 100),
        parallelism: env.integer("COUNTERSIGN_ARGON2_PARALLELISM", 1, 1, 16),
      },
    },
    shutdownTimeoutMs: env.integer("COUNTERSIGN_SHUTDOWN_TIMEOUT_MS", 10_000, 0, 120_000),
    audit: {
      checkpointEntries: env.integer("COUNTERSIGN_AUDIT_CHECKPOINT_ENTRIES", 1_000, 1, 1_000_000),
      checkpointSeconds: env.integer("COUNTERSIGN_AUDIT_CHECKPOINT_SECONDS", 60, 1, 86_400),
      // Unset keeps entries forever: deleting audit history is a decision, never a default.
      retentionDays: env.has("COUNTERSIGN_AUDIT_RETENTION_DAYS")
        ? env.integer("COUNTERSIGN_AUDIT_RETENTION_DAYS", 0, 1, 36_500)
        : undefined,
    },
    agents: { bearerOnlyAllowed: env.boolean("COUNTERSIGN_BEARER_ONLY_ALLOWED", false) },
    approvals: {
      cooldownSeconds: env.integer("COUNTERSIGN_APPROVAL_COOLDOWN_SECONDS", 600, 0, 86_400),
      pollIntervalSeconds: env.integer("COUNTERSIGN_APPROVAL_POLL_INTERVAL_SECONDS", 5, 1, 60),
      perAgentPerMinute: env.integer("COUNTERSIGN_APPROVAL_THROTTLE_AGENT_PER_MINUTE", 30, 1, 1_000_000),
      perUserPerMinute: env.integer("COUNTERSIGN_APPROVAL_THROTTLE_USER_PER_MINUTE", 60, 1, 1_000_000),
      receiptTtlSeconds: env.integer("COUNTERSIGN_RECEIPT_TTL_SECONDS", 900, 60, 2_592_000),
    },
    webhooks: {
      // Loopback http callbacks are a development convenience; production takes https only.
      allowLoopbackHttp: database.kind === "embedded" && !production,
      maxAttempts: env.integer("COUNTERSIGN_WEBHOOK_MAX_ATTEMPTS", 8, 1, 30),
      timeoutMs: env.integer("COUNTERSIGN_WEBHOOK_TIMEOUT_MS", 5_000, 100, 60_000),
    },
    metrics: { allow: metricsAllow },
    // Secrets last: a bad port should not leave a generated secrets file behind.
    secrets: env.problems.length === 0 ? loadServerSecrets(env, { production, dataDir }) : undefined,
  };
  const push = readPush(env, {
    production,
    publicUrl,
    appHost,
    vapidPrivateKey: config.secrets?.vapidPrivateKey,
    allowLoopback: database.kind === "embedded" && !production,
  });

  if (env.problems.length > 0 || config.secrets === undefined) throw new ConfigError(env.problems);
  return deepFreeze({ ...config, push }) as Config;
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

function readMail(env: EnvReader, options: { production: boolean; appHost: string }): Config["mail"] {
  const smtpUrl = env.string("SMTP_URL");
  if (smtpUrl !== undefined && !/^smtps?:\/\/[^/]/.test(smtpUrl))
    env.problems.push("SMTP_URL must be an smtp:// or smtps:// URL");
  if (options.production && smtpUrl === undefined) {
    env.problems.push("production needs SMTP_URL: sign-up and recovery codes are sent by mail");
  }
  const host = options.appHost.replace(/:\d+$/, "");
  return { smtpUrl, from: env.string("COUNTERSIGN_MAIL_FROM") ?? `Countersign <no-reply@${host}>` };
}

/**
 * Push channels (docs/push.md). Web Push is on whenever a VAPID key exists: embedded and
 * development mode generate one into the secrets file; production takes it from
 * COUNTERSIGN_VAPID_PRIVATE_KEY or the secrets file, and refuses COUNTERSIGN_VAPID_SUBJECT without
 * one (push was asked for but could not work). APNs and FCM are each all-or-nothing.
 */
function readPush(
  env: EnvReader,
  options: {
    production: boolean;
    publicUrl: URL;
    appHost: string;
    vapidPrivateKey: Uint8Array | undefined;
    allowLoopback: boolean;
  },
): Config["push"] {
  const subject = env.string("COUNTERSIGN_VAPID_SUBJECT");
  if (subject !== undefined && !/^(?:mailto:[^\s@]+@[^\s@]+|https:\/\/[^\s/]+\S*)$/.test(subject)) {
    env.problems.push("COUNTERSIGN_VAPID_SUBJECT must be a mailto: address or an https: URL (RFC 8292 §2.1)");
  }
  if (subject !== undefined && options.vapidPrivateKey === undefined && options.production) {
    env.problems.push(
      "COUNTERSIGN_VAPID_SUBJECT is set but there is no VAPID key: set COUNTERSIGN_VAPID_PRIVATE_KEY " +
        "(or vapidPrivateKey in the secrets file), or unset the subject to run without Web Push",
    );
  }
  let webPush: Config["push"]["webPush"];
  if (options.vapidPrivateKey !== undefined) {
    const ecdh = createECDH("prime256v1");
    ecdh.setPrivateKey(options.vapidPrivateKey);
    webPush = {
      // RFC 8292 §2.1: a contact; the public https origin is one, else a mailbox at the app's host.
      subject:
        subject ??
        (options.publicUrl.protocol === "https:"
          ? options.publicUrl.origin
          : `mailto:no-reply@${options.appHost.replace(/:\d+$/, "")}`),
      publicKey: ecdh.getPublicKey().toString("base64url"),
      privateKey: Buffer.from(options.vapidPrivateKey).toString("base64url"),
    };
  }
  return {
    webPush,
    apns: readApns(env),
    fcm: readFcm(env),
    allowLoopback: options.allowLoopback,
    timeoutMs: 10_000,
    concurrency: 8,
  };
}

const APNS_VARIABLES = [
  "COUNTERSIGN_APNS_TEAM_ID",
  "COUNTERSIGN_APNS_KEY_ID",
  "COUNTERSIGN_APNS_KEY_FILE",
  "COUNTERSIGN_APNS_BUNDLE_ID",
] as const;

function readApns(env: EnvReader): Config["push"]["apns"] {
  const present = APNS_VARIABLES.filter((name) => env.has(name));
  if (present.length === 0) return undefined;
  if (present.length < APNS_VARIABLES.length) {
    const missing = APNS_VARIABLES.filter((name) => !env.has(name));
    env.problems.push(`set all of the APNs variables or none; missing ${missing.join(", ")}`);
    return undefined;
  }
  const teamId = env.string("COUNTERSIGN_APNS_TEAM_ID") as string;
  const keyId = env.string("COUNTERSIGN_APNS_KEY_ID") as string;
  const bundleId = env.string("COUNTERSIGN_APNS_BUNDLE_ID") as string;
  // Apple's team and key ids are 10 characters of A–Z and 0–9.
  if (!/^[A-Z0-9]{10}$/.test(teamId)) env.problems.push("COUNTERSIGN_APNS_TEAM_ID must be 10 characters A-Z, 0-9");
  if (!/^[A-Z0-9]{10}$/.test(keyId)) env.problems.push("COUNTERSIGN_APNS_KEY_ID must be 10 characters A-Z, 0-9");
  if (!/^[A-Za-z0-9.-]{1,155}$/.test(bundleId)) env.problems.push("COUNTERSIGN_APNS_BUNDLE_ID must be a bundle id");
  const baseUrl = env.url("COUNTERSIGN_APNS_URL", "https://api.push.apple.com", ["https:"]);
  const privateKey = readKeyFile(env, "COUNTERSIGN_APNS_KEY_FILE", "ec");
  return privateKey === undefined ? undefined : { teamId, keyId, privateKey, bundleId, baseUrl: baseUrl.origin };
}

function readFcm(env: EnvReader): Config["push"]["fcm"] {
  const file = env.string("COUNTERSIGN_FCM_SERVICE_ACCOUNT_FILE");
  const baseUrl = env.url("COUNTERSIGN_FCM_URL", "https://fcm.googleapis.com", ["https:"]);
  if (file === undefined) return undefined;
  let account: Record<string, unknown>;
  try {
    account = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (error) {
    env.problems.push(`cannot read COUNTERSIGN_FCM_SERVICE_ACCOUNT_FILE: ${(error as Error).message}`);
    return undefined;
  }
  const { project_id: projectId, client_email: clientEmail, private_key: privateKey } = account;
  const tokenUri = account.token_uri ?? "https://oauth2.googleapis.com/token";
  if (
    account.type !== "service_account" ||
    typeof projectId !== "string" ||
    typeof clientEmail !== "string" ||
    typeof privateKey !== "string" ||
    typeof tokenUri !== "string"
  ) {
    env.problems.push(
      "COUNTERSIGN_FCM_SERVICE_ACCOUNT_FILE must be a service-account JSON key with project_id, client_email and private_key",
    );
    return undefined;
  }
  if (!/^[a-z][a-z0-9-]{4,61}[a-z0-9]$/.test(projectId)) env.problems.push("the FCM project_id is not a project id");
  if (!/^https:\/\//.test(tokenUri)) env.problems.push("the FCM service account's token_uri must use https");
  if (!isKeyOfType(privateKey, "rsa")) env.problems.push("the FCM service account's private_key must be an RSA key");
  return { projectId, clientEmail, privateKey, tokenUri, baseUrl: baseUrl.origin };
}

/** Reads a PEM private key file of the given type; pushes a problem and returns undefined otherwise. */
function readKeyFile(env: EnvReader, name: string, type: "ec" | "rsa"): string | undefined {
  try {
    const pem = readFileSync(env.string(name) as string, "utf8");
    if (isKeyOfType(pem, type)) return pem;
  } catch {
    // Reported below with the same message as a key of the wrong kind.
  }
  env.problems.push(`${name} must name a readable ${type === "ec" ? "P-256 (.p8)" : "RSA"} private key file`);
  return undefined;
}

function isKeyOfType(pem: string, type: "ec" | "rsa"): boolean {
  try {
    const key = createPrivateKey(pem);
    return key.asymmetricKeyType === type && (type !== "ec" || key.asymmetricKeyDetails?.namedCurve === "prime256v1");
  } catch {
    return false;
  }
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
