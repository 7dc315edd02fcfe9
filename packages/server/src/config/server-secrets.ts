import { createECDH, createHash, createPrivateKey, generateKeyPairSync, randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fromBase64Url, toBase64Url } from "@countersign/protocol";
import type { ServerSecrets, SigningJwk } from "./config.ts";
import type { EnvReader } from "./env-reader.ts";

const SECRET_VARIABLES = [
  "COUNTERSIGN_MASTER_KEY",
  "COUNTERSIGN_KEY_ENCRYPTION_KEYS",
  "COUNTERSIGN_SIGNING_KEYS",
  "COUNTERSIGN_AUDIT_LOG_KEY",
] as const;

const KID = /^[A-Za-z0-9_-]{1,32}$/;

/** The JSON form of the secrets, as in a secrets file or generated in embedded mode. */
interface SecretsDocument {
  masterKey: string;
  keyEncryptionKeys: { kid: string; key: string }[];
  signingKeys: SigningJwk[];
  auditLogKey: SigningJwk;
  /** The Web Push VAPID private key (RFC 8292), base64url P-256 scalar; optional in a secrets file. */
  vapidPrivateKey?: string;
}

/**
 * Loads the server's secrets, in order of precedence: the four `COUNTERSIGN_*` variables (all or
 * none), a `COUNTERSIGN_SECRETS_FILE`, or — outside production only — `<dataDir>/secrets.json`,
 * generated on first start with mode 0600. Problems are pushed onto the reader.
 */
export function loadServerSecrets(
  env: EnvReader,
  options: { production: boolean; dataDir: string },
): ServerSecrets | undefined {
  const present = SECRET_VARIABLES.filter((name) => env.has(name));
  if (present.length > 0) {
    if (present.length < SECRET_VARIABLES.length) {
      const missing = SECRET_VARIABLES.filter((name) => !env.has(name));
      env.problems.push(`set all of the secret variables or none; missing ${missing.join(", ")}`);
      return undefined;
    }
    return parseSecrets(env.problems, "environment", undefined, {
      masterKey: env.string("COUNTERSIGN_MASTER_KEY"),
      keyEncryptionKeys: parseKeyList(env.problems, env.string("COUNTERSIGN_KEY_ENCRYPTION_KEYS") ?? ""),
      signingKeys: parseJson(env.problems, "COUNTERSIGN_SIGNING_KEYS", env.string("COUNTERSIGN_SIGNING_KEYS")),
      auditLogKey: parseJson(env.problems, "COUNTERSIGN_AUDIT_LOG_KEY", env.string("COUNTERSIGN_AUDIT_LOG_KEY")),
      vapidPrivateKey: env.string("COUNTERSIGN_VAPID_PRIVATE_KEY"),
    });
  }

  const file = env.string("COUNTERSIGN_SECRETS_FILE");
  if (file !== undefined) return withVapidFromEnv(env, readSecretsFile(env.problems, file, "file"));

  const embeddedFile = join(options.dataDir, "secrets.json");
  if (options.production) {
    env.problems.push(
      "production needs secrets: set COUNTERSIGN_SECRETS_FILE or the COUNTERSIGN_MASTER_KEY, " +
        "COUNTERSIGN_KEY_ENCRYPTION_KEYS, COUNTERSIGN_SIGNING_KEYS and COUNTERSIGN_AUDIT_LOG_KEY variables " +
        "(`countersign secrets generate` prints a fresh set)",
    );
    return undefined;
  }
  if (fileExists(embeddedFile)) {
    addVapidKeyToEmbeddedFile(env.problems, embeddedFile);
    return withVapidFromEnv(env, readSecretsFile(env.problems, embeddedFile, "file"));
  }
  return withVapidFromEnv(env, writeGeneratedSecrets(env.problems, options.dataDir, embeddedFile));
}

/** `COUNTERSIGN_VAPID_PRIVATE_KEY`, when set, takes the place of a secrets file's VAPID key. */
function withVapidFromEnv(env: EnvReader, secrets: ServerSecrets | undefined): ServerSecrets | undefined {
  const value = env.string("COUNTERSIGN_VAPID_PRIVATE_KEY");
  if (secrets === undefined || value === undefined) return secrets;
  const vapidPrivateKey = vapidKey(env.problems, value);
  return vapidPrivateKey === undefined ? undefined : { ...secrets, vapidPrivateKey };
}

/**
 * A generated secrets file from before Web Push had no VAPID key: give it one, in place, so an
 * embedded server keeps one VAPID identity (browsers' subscriptions are bound to it). Written to
 * a temporary file and renamed, so a reader never sees half a file. Only the embedded file is
 * ever rewritten; an operator's `COUNTERSIGN_SECRETS_FILE` is left as it is.
 */
function addVapidKeyToEmbeddedFile(problems: string[], file: string): void {
  try {
    const document = JSON.parse(readFileSync(file, "utf8")) as Partial<SecretsDocument>;
    if (typeof document !== "object" || document === null || document.vapidPrivateKey !== undefined) return;
    const temporary = `${file}.${process.pid}.tmp`;
    const updated = { ...document, vapidPrivateKey: generateVapidPrivateKey() };
    writeFileSync(temporary, `${JSON.stringify(updated, null, 2)}\n`, { mode: 0o600, flag: "wx" });
    renameSync(temporary, file);
  } catch (error) {
    // Unreadable or malformed: readSecretsFile reports it; a failed write is reported here.
    if (!(error instanceof SyntaxError) && (error as NodeJS.ErrnoException).code !== "ENOENT") {
      problems.push(`cannot add a VAPID key to ${file}: ${(error as Error).message}`);
    }
  }
}

function generateVapidPrivateKey(): string {
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  // getPrivateKey drops leading zero bytes (1 key in 256); VAPID keys are exactly 32 bytes.
  const scalar = ecdh.getPrivateKey();
  return toBase64Url(Buffer.concat([Buffer.alloc(32 - scalar.length), scalar]));
}

/** A fresh, random set of secrets in the secrets-file JSON form. */
export function generateSecretsDocument(): SecretsDocument {
  return {
    masterKey: toBase64Url(randomBytes(32)),
    keyEncryptionKeys: [{ kid: `kek-${toBase64Url(randomBytes(6))}`, key: toBase64Url(randomBytes(32)) }],
    signingKeys: [generateSigningJwk()],
    auditLogKey: generateSigningJwk(),
    vapidPrivateKey: generateVapidPrivateKey(),
  };
}

function generateSigningJwk(): SigningJwk {
  const jwk = generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" });
  const x = String(jwk.x);
  // The key id is a digest of the public key, so it names the key without revealing anything.
  const kid = toBase64Url(createHash("sha256").update(x).digest()).slice(0, 16);
  return { kty: "OKP", crv: "Ed25519", x, d: String(jwk.d), kid };
}

function writeGeneratedSecrets(problems: string[], dataDir: string, file: string): ServerSecrets | undefined {
  const document = generateSecretsDocument();
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    // `wx` fails if another process created the file first; then we read theirs.
    writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`, { mode: 0o600, flag: "wx" });
    chmodSync(file, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return readSecretsFile(problems, file, "file");
    problems.push(`cannot write generated secrets to ${file}: ${(error as Error).message}`);
    return undefined;
  }
  return parseSecrets(problems, "generated", file, document);
}

function readSecretsFile(problems: string[], file: string, source: "file"): ServerSecrets | undefined {
  try {
    // Like ssh with private keys: refuse a secrets file that others can read.
    if ((statSync(file).mode & 0o077) !== 0) {
      problems.push(`secrets file ${file} must not be readable by group or others (chmod 600)`);
      return undefined;
    }
    const document = JSON.parse(readFileSync(file, "utf8")) as Partial<SecretsDocument>;
    return parseSecrets(problems, source, file, document);
  } catch (error) {
    problems.push(`cannot read secrets file ${file}: ${(error as Error).message}`);
    return undefined;
  }
}

function parseSecrets(
  problems: string[],
  source: ServerSecrets["source"],
  file: string | undefined,
  document: Partial<Record<keyof SecretsDocument, unknown>>,
): ServerSecrets | undefined {
  const before = problems.length;
  const masterKey = strongKey(problems, "master key", document.masterKey, 32);
  const keks = new Map<string, Uint8Array>();
  const kekList = Array.isArray(document.keyEncryptionKeys) ? document.keyEncryptionKeys : [];
  if (kekList.length === 0) problems.push("at least one key-encryption key is required");
  for (const entry of kekList as { kid?: unknown; key?: unknown }[]) {
    if (typeof entry?.kid !== "string" || !KID.test(entry.kid)) {
      problems.push("key-encryption key ids must match [A-Za-z0-9_-]{1,32}");
      continue;
    }
    if (keks.has(entry.kid)) problems.push(`key-encryption key id ${entry.kid} is used twice`);
    const key = strongKey(problems, `key-encryption key ${entry.kid}`, entry.key, 32, 32);
    if (key) keks.set(entry.kid, key);
  }
  const signingKeys = Array.isArray(document.signingKeys) ? document.signingKeys : [];
  if (signingKeys.length === 0) problems.push("at least one signing key is required");
  const signing = signingKeys.map((jwk, i) => signingJwk(problems, `signing key #${i + 1}`, jwk));
  const auditLogKey = signingJwk(problems, "audit log key", document.auditLogKey);
  const kids = signing.map((k) => k?.kid);
  if (new Set(kids).size !== kids.length) problems.push("signing key ids must be unique");
  const vapidPrivateKey =
    document.vapidPrivateKey === undefined ? undefined : vapidKey(problems, document.vapidPrivateKey);
  if (problems.length > before || !masterKey || !auditLogKey) return undefined;
  return {
    masterKey,
    keyEncryptionKeys: { current: (kekList[0] as { kid: string }).kid, keys: keks },
    signingKeys: signing as SigningJwk[],
    auditLogKey,
    vapidPrivateKey,
    source,
    file,
  };
}

/** A VAPID private key: a base64url P-256 scalar (32 bytes) that node:crypto accepts as a key. */
function vapidKey(problems: string[], value: unknown): Uint8Array | undefined {
  const bytes = strongKey(problems, "VAPID private key", value, 32, 32);
  if (bytes === undefined) return undefined;
  try {
    // Throws for 0 or a scalar ≥ the group order (SEC 1 §3.2.1): not a P-256 private key.
    createECDH("prime256v1").setPrivateKey(bytes);
  } catch {
    problems.push("VAPID private key is not a valid P-256 private key");
    return undefined;
  }
  return bytes;
}

/**
 * Decodes a base64url key and refuses short or obviously non-random ones (all-zero keys, repeated
 * patterns, copied placeholders), which is how default secrets slip into production.
 */
function strongKey(problems: string[], label: string, value: unknown, min: number, max = 1024) {
  const bytes = typeof value === "string" ? fromBase64Url(value) : null;
  if (!bytes) {
    problems.push(`${label} must be base64url without padding`);
    return undefined;
  }
  if (bytes.length < min || bytes.length > max) {
    problems.push(`${label} must be ${min === max ? `${min}` : `at least ${min}`} bytes`);
    return undefined;
  }
  if (new Set(bytes).size < Math.min(16, bytes.length / 2)) {
    problems.push(`${label} does not look random; generate one with \`countersign secrets generate\``);
    return undefined;
  }
  return bytes;
}

function signingJwk(problems: string[], label: string, value: unknown): SigningJwk | undefined {
  const jwk = value as Partial<SigningJwk> | undefined;
  if (
    jwk?.kty !== "OKP" ||
    jwk.crv !== "Ed25519" ||
    typeof jwk.d !== "string" ||
    typeof jwk.x !== "string" ||
    typeof jwk.kid !== "string" ||
    !KID.test(jwk.kid)
  ) {
    problems.push(`${label} must be an Ed25519 private JWK with kty, crv, x, d and a kid matching [A-Za-z0-9_-]{1,32}`);
    return undefined;
  }
  try {
    // node:crypto derives the public key from d; it must equal the x we would publish.
    const derived = createPrivateKey({ key: { kty: "OKP", crv: "Ed25519", d: jwk.d, x: jwk.x }, format: "jwk" });
    if (derived.export({ format: "jwk" }).x !== jwk.x) throw new Error("x does not match d");
  } catch {
    problems.push(`${label} is not a valid Ed25519 key pair`);
    return undefined;
  }
  strongKey(problems, `${label} (d)`, jwk.d, 32, 32);
  return { kty: "OKP", crv: "Ed25519", x: jwk.x, d: jwk.d, kid: jwk.kid };
}

function parseKeyList(problems: string[], value: string): { kid: string; key: string }[] {
  return value.split(",").flatMap((entry) => {
    const [kid, key, extra] = entry.trim().split(":");
    if (kid === undefined || key === undefined || extra !== undefined) {
      problems.push("COUNTERSIGN_KEY_ENCRYPTION_KEYS must be a comma-separated list of kid:base64url-key");
      return [];
    }
    return [{ kid, key }];
  });
}

function parseJson(problems: string[], name: string, value: string | undefined): unknown {
  try {
    const parsed = JSON.parse(value ?? "") as unknown;
    // Accept a JWKS object as well as a bare array for the signing keys.
    if (name === "COUNTERSIGN_SIGNING_KEYS" && !Array.isArray(parsed)) return (parsed as { keys?: unknown })?.keys;
    return parsed;
  } catch {
    problems.push(`${name} must be JSON`);
    return undefined;
  }
}

function fileExists(file: string): boolean {
  try {
    statSync(file);
    return true;
  } catch {
    return false;
  }
}
