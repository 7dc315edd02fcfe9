import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ConfigError } from "./config-error.ts";
import { loadConfig, loadDatabaseConfig } from "./load-config.ts";
import { generateSecretsDocument } from "./server-secrets.ts";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "cs-config-"));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function secretEnv(document = generateSecretsDocument()): Record<string, string> {
  return {
    COUNTERSIGN_MASTER_KEY: document.masterKey,
    COUNTERSIGN_KEY_ENCRYPTION_KEYS: document.keyEncryptionKeys.map((k) => `${k.kid}:${k.key}`).join(","),
    COUNTERSIGN_SIGNING_KEYS: JSON.stringify(document.signingKeys),
    COUNTERSIGN_AUDIT_LOG_KEY: JSON.stringify(document.auditLogKey),
  };
}

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  assert.fail("expected a ConfigError");
}

describe("loadConfig", () => {
  it("runs in embedded mode with no configuration, generating secrets with mode 0600", () => {
    const cwd = tempDir();
    const config = loadConfig({}, { cwd });
    assert.equal(config.environment, "development");
    assert.deepEqual(config.database, { kind: "embedded", dataDir: join(cwd, ".countersign") });
    assert.equal(config.publicUrl, "http://localhost:8787");
    assert.equal(config.appHost, "localhost:8787");
    assert.equal(config.apiHost, "localhost:8787");
    assert.deepEqual(config.listen, { host: "localhost", port: 8787 });
    assert.equal(config.secrets.source, "generated");
    const file = join(cwd, ".countersign", "secrets.json");
    assert.equal(config.secrets.file, file);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(join(cwd, ".countersign")).mode & 0o077, 0);
    assert.equal(config.secrets.masterKey.length, 32);
    assert.equal(config.secrets.keyEncryptionKeys.keys.get(config.secrets.keyEncryptionKeys.current)?.length, 32);
  });

  it("reuses the generated secrets on the next start", () => {
    const cwd = tempDir();
    const first = loadConfig({}, { cwd });
    const second = loadConfig({}, { cwd });
    assert.equal(second.secrets.source, "file");
    assert.deepEqual(second.secrets.masterKey, first.secrets.masterKey);
    assert.deepEqual(second.secrets.signingKeys, first.secrets.signingKeys);
  });

  it("returns a deeply frozen object", () => {
    const config = loadConfig({}, { cwd: tempDir() });
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.listen));
    assert.ok(Object.isFrozen(config.secrets.signingKeys[0]));
    assert.throws(() => {
      (config as { publicUrl: string }).publicUrl = "https://evil.example";
    }, TypeError);
  });

  it("derives the hosts from the public URL and lets each be set", () => {
    const config = loadConfig(
      {
        COUNTERSIGN_PUBLIC_URL: "https://Approve.Example.com",
        COUNTERSIGN_API_HOST: "api.example.com",
        ...secretEnv(),
      },
      { cwd: tempDir() },
    );
    assert.equal(config.publicUrl, "https://approve.example.com");
    assert.equal(config.appHost, "approve.example.com");
    assert.equal(config.apiHost, "api.example.com");
    assert.equal(config.apiBaseUrl, "https://api.example.com");
    assert.equal(config.secrets.source, "environment");
  });

  it("selects PostgreSQL when DATABASE_URL is set", () => {
    const config = loadConfig(
      { DATABASE_URL: "postgres://u@127.0.0.1:5432/db", COUNTERSIGN_DATABASE_POOL_SIZE: "4" },
      { cwd: tempDir() },
    );
    assert.deepEqual(config.database, { kind: "postgres", url: "postgres://u@127.0.0.1:5432/db", poolSize: 4 });
  });

  it("reports every problem at once, naming variables but never their values", () => {
    const problems = problemsOf(() =>
      loadConfig(
        {
          COUNTERSIGN_PORT: "99999",
          COUNTERSIGN_PUBLIC_URL: "ftp://secret-value.example",
          COUNTERSIGN_LOG_LEVEL: "loud",
          DATABASE_URL: "mysql://x",
          COUNTERSIGN_TRUST_PROXY: "10.0.0.0/99",
        },
        { cwd: tempDir() },
      ),
    );
    assert.equal(problems.length, 5);
    for (const name of [
      "COUNTERSIGN_PORT",
      "COUNTERSIGN_PUBLIC_URL",
      "COUNTERSIGN_LOG_LEVEL",
      "DATABASE_URL",
      "COUNTERSIGN_TRUST_PROXY",
    ]) {
      assert.ok(
        problems.some((p) => p.startsWith(name)),
        `${name} is reported`,
      );
    }
    assert.ok(!problems.join("\n").includes("secret-value"));
  });

  it("does not write secrets when other configuration is invalid", () => {
    const cwd = tempDir();
    problemsOf(() => loadConfig({ COUNTERSIGN_PORT: "0" }, { cwd }));
    assert.throws(() => statSync(join(cwd, ".countersign", "secrets.json")), { code: "ENOENT" });
  });

  it("derives the WebAuthn relying party from the app host, and defaults authentication hardening", () => {
    const config = loadConfig({ COUNTERSIGN_APP_HOST: "approve.example.com:8443" }, { cwd: tempDir() });
    assert.deepEqual(config.webauthn, {
      rpId: "approve.example.com",
      rpName: "Countersign",
      origin: "http://approve.example.com:8443",
    });
    assert.deepEqual(config.auth, {
      minDurationMs: 400,
      stepUpMaxAgeSeconds: 300,
      passwordLogin: false,
      argon2: { memoryKiB: 19_456, iterations: 2, parallelism: 1 },
    });
    assert.deepEqual(config.sessions, { idleTimeoutSeconds: 1_800, absoluteTimeoutSeconds: 43_200 });
    assert.equal(config.mail.smtpUrl, undefined);
  });

  it("refuses Argon2id costs below the OWASP minimum and malformed SMTP URLs", () => {
    const problems = problemsOf(() =>
      loadConfig(
        { COUNTERSIGN_ARGON2_MEMORY_KIB: "4096", COUNTERSIGN_ARGON2_ITERATIONS: "1", SMTP_URL: "http://mail" },
        { cwd: tempDir() },
      ),
    );
    assert.equal(problems.length, 3);
  });

  it("refuses a public URL with a path", () => {
    const problems = problemsOf(() =>
      loadConfig({ COUNTERSIGN_PUBLIC_URL: "https://x.example/app" }, { cwd: tempDir() }),
    );
    assert.match(problems[0] ?? "", /origin only/);
  });
});

describe("loadConfig in production", () => {
  const production = {
    NODE_ENV: "production",
    DATABASE_URL: "postgres://u@db/x",
    COUNTERSIGN_PUBLIC_URL: "https://approve.example.com",
    SMTP_URL: "smtps://mailer:pw@smtp.example.com:465",
  };

  it("accepts strong secrets from the environment", () => {
    const config = loadConfig({ ...production, ...secretEnv() }, { cwd: tempDir() });
    assert.equal(config.environment, "production");
    assert.equal(config.secrets.source, "environment");
  });

  it("refuses to generate secrets", () => {
    const cwd = tempDir();
    const problems = problemsOf(() => loadConfig(production, { cwd }));
    assert.match(problems.join("\n"), /production needs secrets/);
    assert.throws(() => statSync(join(cwd, ".countersign")), { code: "ENOENT" });
  });

  it("refuses plain http, and the embedded database", () => {
    const problems = problemsOf(() =>
      loadConfig(
        { NODE_ENV: "production", COUNTERSIGN_PUBLIC_URL: "http://x.example", ...secretEnv() },
        { cwd: tempDir() },
      ),
    );
    assert.ok(problems.some((p) => /https in production/.test(p)));
    assert.ok(problems.some((p) => /production needs PostgreSQL/.test(p)));
  });

  it("refuses weak, short or placeholder secrets", () => {
    const weak = secretEnv();
    weak.COUNTERSIGN_MASTER_KEY = "A".repeat(43); // 32 zero bytes
    weak.COUNTERSIGN_KEY_ENCRYPTION_KEYS = "k1:c2hvcnQ"; // "short"
    const problems = problemsOf(() => loadConfig({ ...production, ...weak }, { cwd: tempDir() }));
    assert.ok(problems.some((p) => /master key does not look random/.test(p)));
    assert.ok(problems.some((p) => /key-encryption key k1 must be 32 bytes/.test(p)));
  });

  it("refuses a signing key whose public half does not match", () => {
    const a = generateSecretsDocument();
    const b = generateSecretsDocument();
    const mismatched = [{ ...a.signingKeys[0], x: b.signingKeys[0]?.x }];
    const env = { ...production, ...secretEnv(a), COUNTERSIGN_SIGNING_KEYS: JSON.stringify(mismatched) };
    const problems = problemsOf(() => loadConfig(env, { cwd: tempDir() }));
    assert.ok(problems.some((p) => /signing key #1 is not a valid Ed25519 key pair/.test(p)));
  });

  it("requires SMTP, since sign-up and recovery codes go by mail", () => {
    const { SMTP_URL: _omitted, ...withoutSmtp } = production;
    const problems = problemsOf(() => loadConfig({ ...withoutSmtp, ...secretEnv() }, { cwd: tempDir() }));
    assert.ok(problems.some((p) => /production needs SMTP_URL/.test(p)));
  });

  it("requires all secret variables together", () => {
    const { COUNTERSIGN_AUDIT_LOG_KEY: _omitted, ...partial } = secretEnv();
    const problems = problemsOf(() => loadConfig({ ...production, ...partial }, { cwd: tempDir() }));
    assert.match(problems.join("\n"), /missing COUNTERSIGN_AUDIT_LOG_KEY/);
  });

  it("reads a secrets file, and refuses one that others can read", () => {
    const dir = tempDir();
    const file = join(dir, "secrets.json");
    writeFileSync(file, JSON.stringify(generateSecretsDocument()), { mode: 0o600 });
    const config = loadConfig({ ...production, COUNTERSIGN_SECRETS_FILE: file }, { cwd: dir });
    assert.equal(config.secrets.source, "file");

    const loose = join(dir, "loose.json");
    writeFileSync(loose, readFileSync(file), { mode: 0o644 });
    const problems = problemsOf(() => loadConfig({ ...production, COUNTERSIGN_SECRETS_FILE: loose }, { cwd: dir }));
    assert.match(problems.join("\n"), /must not be readable by group or others/);
  });
});

describe("loadDatabaseConfig", () => {
  it("needs no secrets", () => {
    const cwd = tempDir();
    const config = loadDatabaseConfig({ NODE_ENV: "production", DATABASE_URL: "postgres://u@db/x" }, { cwd });
    assert.equal(config.database.kind, "postgres");
    assert.throws(() => statSync(join(cwd, ".countersign")), { code: "ENOENT" });
  });
});
