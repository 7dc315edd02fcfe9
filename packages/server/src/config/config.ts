import type { Ed25519PrivateJwk } from "@countersign/protocol";

/** Log levels pino accepts. */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** An Ed25519 private JWK that carries its key id. */
export type SigningJwk = Ed25519PrivateJwk & { kid: string };

/** The server's secrets: never logged, never sent anywhere. */
export interface ServerSecrets {
  /**
   * The root secret (≥ 32 bytes). Purpose-separated keys are derived from it with HKDF: blind
   * indexes, session MACs, token digests. It does not rotate, because blind indexes depend on it.
   */
  readonly masterKey: Uint8Array;
  /** Key-encryption keys by id; `current` wraps new data keys, the rest only unwrap (DESIGN §4.9). */
  readonly keyEncryptionKeys: { readonly current: string; readonly keys: ReadonlyMap<string, Uint8Array> };
  /** Receipt and webhook signing keys; the first signs, all are published in the JWKS (DESIGN §4.7). */
  readonly signingKeys: readonly SigningJwk[];
  /** The audit log's checkpoint key (DESIGN §4.8). */
  readonly auditLogKey: SigningJwk;
  /** The Web Push VAPID private key (RFC 8292), a P-256 scalar; Web Push is off without one. */
  readonly vapidPrivateKey: Uint8Array | undefined;
  /** Where the secrets came from, for the start-up banner. */
  readonly source: "environment" | "file" | "generated";
  /** The file they were read from or written to, if any. */
  readonly file: string | undefined;
}

/** The validated, frozen configuration passed down to every module. Built by `loadConfig`. */
export interface Config {
  /** `production` refuses generated or weak secrets, plain-http public URLs and the embedded database. */
  readonly environment: "production" | "development" | "test";
  /** Embedded = PGlite in the data directory; external = PostgreSQL at `databaseUrl`. */
  readonly database:
    | { readonly kind: "embedded"; readonly dataDir: string }
    | { readonly kind: "postgres"; readonly url: string; readonly poolSize: number };
  /** Data directory for the embedded database and generated secrets (absolute). */
  readonly dataDir: string;
  readonly listen: { readonly host: string; readonly port: number };
  /** The public origin of the service, e.g. `https://countersign.example.com` (no trailing slash). */
  readonly publicUrl: string;
  /** Exact `Host` the person-facing app and API answer on (T-11). */
  readonly appHost: string;
  /** Exact `Host` the agent API answers on (T-11). */
  readonly apiHost: string;
  /** Base URL agents call, derived from the public URL's scheme and the API host. */
  readonly apiBaseUrl: string;
  /** Proxy addresses/CIDRs whose `X-Forwarded-For` is trusted, or none. */
  readonly trustProxy: readonly string[];
  readonly bodyLimitBytes: number;
  readonly logLevel: LogLevel;
  readonly signatures: {
    /** `created` must be within this many seconds of now (DESIGN §4.1). */
    readonly maxSkewSeconds: number;
    /** A (keyid, nonce) pair is refused for this many seconds after first use (DESIGN §4.1). */
    readonly nonceTtlSeconds: number;
  };
  /** WebAuthn relying party (DESIGN §4.9): the app host's name without its port, and the app origin. */
  readonly webauthn: { readonly rpId: string; readonly rpName: string; readonly origin: string };
  /** Outgoing mail. Without an SMTP URL, mail is printed to the console (never in production). */
  readonly mail: { readonly smtpUrl: string | undefined; readonly from: string };
  /** Session lifetimes: idle and absolute, in seconds. */
  readonly sessions: { readonly idleTimeoutSeconds: number; readonly absoluteTimeoutSeconds: number };
  /** Authentication hardening. */
  readonly auth: {
    /** Every authentication endpoint answers no earlier than this (constant minimum response time). */
    readonly minDurationMs: number;
    /** Step-up: how recent a user-verified passkey assertion must be for sensitive operations. */
    readonly stepUpMaxAgeSeconds: number;
    /** Optional password sign-in, always followed by an email code (COUNTERSIGN_PASSWORD_LOGIN). */
    readonly passwordLogin: boolean;
    /** Argon2id cost (OWASP minimum m=19456 KiB, t=2, p=1; stronger allowed). */
    readonly argon2: { readonly memoryKiB: number; readonly iterations: number; readonly parallelism: number };
  };
  readonly shutdownTimeoutMs: number;
  /** The audit log's checkpoints and retention (DESIGN §4.8, docs/audit-log.md). */
  readonly audit: {
    /** A signed checkpoint is due once this many entries are not covered by one. */
    readonly checkpointEntries: number;
    /** …or once this many seconds have passed since the last checkpoint and new entries exist. */
    readonly checkpointSeconds: number;
    /** `countersign audit purge` removes entries older than this many days; undefined keeps them forever. */
    readonly retentionDays: number | undefined;
  };
  /** Agents (DESIGN §4.2): bearer-only agents exist only while `bearerOnlyAllowed` (COUNTERSIGN_BEARER_ONLY_ALLOWED). */
  readonly agents: { readonly bearerOnlyAllowed: boolean };
  /** Approval requests (DESIGN §4.4–4.7, T-1): anti-fatigue limits, polling and receipts. */
  readonly approvals: {
    /** After a rejection, the same (user, agent, action type) is refused this long (429 `cooldown_active`). */
    readonly cooldownSeconds: number;
    /** The `interval` agents are told to poll at; faster polls get 429 `slow_down`. */
    readonly pollIntervalSeconds: number;
    /** Creations per agent per minute before 429 `throttled` (kept in the database). */
    readonly perAgentPerMinute: number;
    /** Creations per person, across all their agents, per minute. */
    readonly perUserPerMinute: number;
    /** A receipt's lifetime after the decision (its `exp`, DESIGN §4.7). */
    readonly receiptTtlSeconds: number;
  };
  /** Signed webhooks to an approval's `callback_url` (DESIGN §4.4). */
  readonly webhooks: {
    /** Plain http to a loopback address is accepted only in embedded development mode. */
    readonly allowLoopbackHttp: boolean;
    /** Delivery attempts before a webhook is given up, with exponential back-off between them. */
    readonly maxAttempts: number;
    /** Per-attempt timeout. */
    readonly timeoutMs: number;
  };
  /**
   * Push notifications of new approval requests (DESIGN §4.10, T-3, docs/push.md). Each channel is
   * active only when configured; with none, the app learns of requests over SSE alone.
   */
  readonly push: {
    /** Web Push (RFC 8030/8291/8292): on whenever a VAPID key is available. */
    readonly webPush:
      | {
          /** `mailto:` or `https:` contact for push services (RFC 8292 §2.1). */
          readonly subject: string;
          /** Uncompressed P-256 public key, base64url: the browser's `applicationServerKey`. */
          readonly publicKey: string;
          /** P-256 private scalar, base64url. */
          readonly privateKey: string;
        }
      | undefined;
    /** Apple Push Notification service with token (JWT) authentication. */
    readonly apns:
      | {
          readonly teamId: string;
          readonly keyId: string;
          /** The `.p8` signing key, PKCS #8 PEM (P-256). */
          readonly privateKey: string;
          /** The app's bundle id: the `apns-topic`. */
          readonly bundleId: string;
          /** `https://api.push.apple.com`, or the sandbox. */
          readonly baseUrl: string;
        }
      | undefined;
    /** Firebase Cloud Messaging HTTP v1 with a service account. */
    readonly fcm:
      | {
          readonly projectId: string;
          readonly clientEmail: string;
          /** The service account's RS256 private key, PKCS #8 PEM. */
          readonly privateKey: string;
          /** Where the OAuth JWT bearer grant (RFC 7523) is posted. */
          readonly tokenUri: string;
          /** `https://fcm.googleapis.com`. */
          readonly baseUrl: string;
        }
      | undefined;
    /** Web Push endpoints on loopback addresses are accepted only in embedded development mode. */
    readonly allowLoopback: boolean;
    /** Per-attempt timeout. */
    readonly timeoutMs: number;
    /** Pushes in flight at once, per process. */
    readonly concurrency: number;
  };
  /** `/metrics` answers loopback and these addresses/CIDRs only (COUNTERSIGN_METRICS_ALLOW). */
  readonly metrics: { readonly allow: readonly string[] };
  readonly secrets: ServerSecrets;
}
