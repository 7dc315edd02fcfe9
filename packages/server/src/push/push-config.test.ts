import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ConfigError } from "../config/config-error.ts";
import { loadConfig } from "../config/load-config.ts";
import { generateSecretsDocument } from "../config/server-secrets.ts";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "cs-push-config-"));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function problemsOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.join("\n");
    throw error;
  }
  return assert.fail("expected a ConfigError");
}

const production = {
  NODE_ENV: "production",
  DATABASE_URL: "postgres://u@db/x",
  COUNTERSIGN_PUBLIC_URL: "https://approve.example.com",
  SMTP_URL: "smtps://mailer:pw@smtp.example.com:465",
};

function secretEnv(document = generateSecretsDocument()): Record<string, string> {
  return {
    COUNTERSIGN_MASTER_KEY: document.masterKey,
    COUNTERSIGN_KEY_ENCRYPTION_KEYS: document.keyEncryptionKeys.map((k) => `${k.kid}:${k.key}`).join(","),
    COUNTERSIGN_SIGNING_KEYS: JSON.stringify(document.signingKeys),
    COUNTERSIGN_AUDIT_LOG_KEY: JSON.stringify(document.auditLogKey),
  };
}

describe("push configuration", () => {
  it("generates a VAPID key into the embedded secrets file and keeps it across starts", () => {
    const cwd = tempDir();
    const first = loadConfig({}, { cwd });
    const file = join(cwd, ".countersign", "secrets.json");
    const stored = JSON.parse(readFileSync(file, "utf8")) as { vapidPrivateKey?: string };
    assert.equal(first.push.webPush?.privateKey, stored.vapidPrivateKey);
    assert.equal(Buffer.from(first.push.webPush?.publicKey ?? "", "base64url").length, 65);
    assert.equal(first.push.webPush?.subject, "mailto:no-reply@localhost");
    assert.equal(loadConfig({}, { cwd }).push.webPush?.publicKey, first.push.webPush?.publicKey);
    assert.equal(first.push.apns, undefined);
    assert.equal(first.push.fcm, undefined);
  });

  it("generates VAPID keys of exactly 32 bytes, also when the scalar starts with a zero byte", () => {
    // 1 scalar in 256 starts with 0x00; 3,000 keys all but surely include some.
    const keys = Array.from({ length: 3_000 }, () =>
      Buffer.from(generateSecretsDocument().vapidPrivateKey as string, "base64url"),
    );
    assert.ok(keys.every((key) => key.length === 32));
    assert.ok(keys.some((key) => key[0] === 0));
  });

  it("adds a VAPID key to an embedded secrets file generated before Web Push, keeping it 0600", () => {
    const cwd = tempDir();
    loadConfig({}, { cwd });
    const file = join(cwd, ".countersign", "secrets.json");
    const { vapidPrivateKey: _dropped, ...old } = JSON.parse(readFileSync(file, "utf8"));
    writeFileSync(file, JSON.stringify(old), { mode: 0o600 });
    const config = loadConfig({}, { cwd });
    assert.ok(config.push.webPush);
    assert.equal(JSON.parse(readFileSync(file, "utf8")).masterKey, old.masterKey);
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  it("runs production without Web Push when no VAPID key or subject is configured", () => {
    const config = loadConfig({ ...production, ...secretEnv() }, { cwd: tempDir() });
    assert.equal(config.push.webPush, undefined);
    assert.equal(config.push.allowLoopback, false);
  });

  it("refuses a VAPID subject in production without a VAPID key", () => {
    const problems = problemsOf(() =>
      loadConfig(
        { ...production, ...secretEnv(), COUNTERSIGN_VAPID_SUBJECT: "mailto:ops@example.com" },
        { cwd: tempDir() },
      ),
    );
    assert.match(problems, /COUNTERSIGN_VAPID_SUBJECT is set but there is no VAPID key/);
  });

  it("takes the VAPID key from the environment, the subject defaulting to the https public URL", () => {
    const key = generateSecretsDocument().vapidPrivateKey as string;
    const config = loadConfig(
      { ...production, ...secretEnv(), COUNTERSIGN_VAPID_PRIVATE_KEY: key },
      { cwd: tempDir() },
    );
    assert.equal(config.push.webPush?.privateKey, key);
    assert.equal(config.push.webPush?.subject, "https://approve.example.com");
  });

  it("refuses a VAPID key that is not a P-256 scalar, and a subject that is not mailto: or https:", () => {
    const problems = problemsOf(() =>
      loadConfig(
        {
          ...production,
          ...secretEnv(),
          COUNTERSIGN_VAPID_PRIVATE_KEY: Buffer.alloc(32, 0xff).toString("base64url"),
          COUNTERSIGN_VAPID_SUBJECT: "http://example.com",
        },
        { cwd: tempDir() },
      ),
    );
    assert.match(problems, /VAPID private key/);
    assert.match(problems, /COUNTERSIGN_VAPID_SUBJECT must be a mailto: address or an https: URL/);
  });

  it("reads APNs settings all together, and refuses some without the others", () => {
    const dir = tempDir();
    const keyFile = join(dir, "AuthKey.p8");
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    writeFileSync(keyFile, privateKey.export({ format: "pem", type: "pkcs8" }));
    const apns = {
      COUNTERSIGN_APNS_TEAM_ID: "ABCDE12345",
      COUNTERSIGN_APNS_KEY_ID: "KEY1234567",
      COUNTERSIGN_APNS_KEY_FILE: keyFile,
      COUNTERSIGN_APNS_BUNDLE_ID: "com.example.countersign",
    };
    const config = loadConfig({ ...production, ...secretEnv(), ...apns }, { cwd: dir });
    assert.equal(config.push.apns?.baseUrl, "https://api.push.apple.com");
    assert.equal(config.push.apns?.teamId, "ABCDE12345");
    const { COUNTERSIGN_APNS_KEY_ID: _omitted, ...partial } = apns;
    assert.match(
      problemsOf(() => loadConfig({ ...production, ...secretEnv(), ...partial }, { cwd: dir })),
      /missing COUNTERSIGN_APNS_KEY_ID/,
    );
  });

  it("reads an FCM service account and refuses one whose key is not RSA", () => {
    const dir = tempDir();
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "pem", type: "pkcs8" });
    const account = {
      type: "service_account",
      project_id: "countersign-test",
      client_email: "push@countersign-test.iam.gserviceaccount.com",
      private_key: rsa,
    };
    const file = join(dir, "sa.json");
    writeFileSync(file, JSON.stringify(account));
    const config = loadConfig(
      { ...production, ...secretEnv(), COUNTERSIGN_FCM_SERVICE_ACCOUNT_FILE: file },
      { cwd: dir },
    );
    assert.equal(config.push.fcm?.tokenUri, "https://oauth2.googleapis.com/token");
    assert.equal(config.push.fcm?.projectId, "countersign-test");
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "pem", type: "pkcs8" });
    writeFileSync(file, JSON.stringify({ ...account, private_key: ec }));
    assert.match(
      problemsOf(() =>
        loadConfig({ ...production, ...secretEnv(), COUNTERSIGN_FCM_SERVICE_ACCOUNT_FILE: file }, { cwd: dir }),
      ),
      /must be an RSA key/,
    );
  });
});
