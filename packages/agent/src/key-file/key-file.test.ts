import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  accountKeyFingerprint,
  CountersignError,
  exportEd25519PrivateJwk,
  generateAccountKeyPair,
  generateEd25519KeyPair,
  toBase64Url,
} from "@countersign/protocol";
import { agentKeyId } from "../client/agent-key-id.ts";
import type { AgentKeyFile } from "./agent-key-file.ts";
import { parseAgentKeyFile } from "./agent-key-file.ts";
import { defaultKeyFilePath } from "./default-key-file-path.ts";
import { readKeyFile } from "./read-key-file.ts";
import { writeKeyFile } from "./write-key-file.ts";

const dir = mkdtempSync(join(tmpdir(), "cs-keyfile-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const code = (wanted: string) => (e: unknown) => e instanceof CountersignError && e.code === wanted;

async function newKey(): Promise<AgentKeyFile> {
  const jwk = await exportEd25519PrivateJwk((await generateEd25519KeyPair({ extractable: true })).privateKey);
  return { ...jwk, kid: agentKeyId(jwk.x) };
}

describe("key files", () => {
  it("are written with mode 0600 whatever the umask, in a 0700 directory, and read back", async () => {
    const previous = process.umask(0);
    try {
      const path = join(dir, "new", "agent-key.json");
      const key = await newKey();
      await writeKeyFile(path, key);
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.equal(statSync(join(dir, "new")).mode & 0o777, 0o700);
      assert.deepEqual(await readKeyFile(path), key);
    } finally {
      process.umask(previous);
    }
  });

  it("are never overwritten, except by an explicit atomic replace", async () => {
    const path = join(dir, "replace.json");
    const first = await newKey();
    await writeKeyFile(path, first);
    await assert.rejects(writeKeyFile(path, await newKey()), code("validation_failed"));
    assert.deepEqual(await readKeyFile(path), first);
    const enrolled = { ...first, agent_id: "agt_AAAAAAAAAAAAAAAAAAAAAA", server: "https://api.example.com" };
    await writeKeyFile(path, enrolled, { replace: true });
    assert.deepEqual(await readKeyFile(path), enrolled);
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  it("are refused when other users can read them, like OpenSSH does", async () => {
    const path = join(dir, "open.json");
    await writeKeyFile(path, await newKey());
    chmodSync(path, 0o644);
    await assert.rejects(
      readKeyFile(path),
      (e: unknown) => code("validation_failed")(e) && /chmod 600/.test(String(e)),
    );
  });

  it("missing: unknown_agent; malformed: validation_failed without quoting the file", async () => {
    await assert.rejects(readKeyFile(join(dir, "absent.json")), code("unknown_agent"));
    const path = join(dir, "bad.json");
    writeFileSync(path, '{"d": "SECRET-SEED', { mode: 0o600 });
    await assert.rejects(
      readKeyFile(path),
      (e: unknown) => code("validation_failed")(e) && !String(e).includes("SECRET"),
    );
    assert.ok(readFileSync(path, "utf8").includes("SECRET"));
  });

  it("must name the key's own thumbprint as kid", async () => {
    const key = await newKey();
    assert.throws(() => parseAgentKeyFile({ ...key, kid: "someone-else" }), code("validation_failed"));
    assert.throws(() => parseAgentKeyFile({ ...key, d: "short" }), code("validation_failed"));
    assert.throws(() => parseAgentKeyFile({ ...key, agent_id: "usr_x" }), code("validation_failed"));
    assert.equal(parseAgentKeyFile({ ...key, kid: undefined }).kid, key.kid);
  });

  it("keep an end-to-end pin whose fingerprint is its key's, and refuse any other", async () => {
    const { publicKey } = generateAccountKeyPair();
    const e2e = {
      account_key_id: `ak_${"B".repeat(22)}`,
      public_key: toBase64Url(publicKey),
      fingerprint: accountKeyFingerprint(publicKey),
    };
    const key = { ...(await newKey()), e2e };
    const path = join(dir, "pinned.json");
    await writeKeyFile(path, key);
    assert.deepEqual((await readKeyFile(path)).e2e, e2e);
    const other = accountKeyFingerprint(generateAccountKeyPair().publicKey);
    assert.throws(() => parseAgentKeyFile({ ...key, e2e: { ...e2e, fingerprint: other } }), code("validation_failed"));
    assert.throws(() => parseAgentKeyFile({ ...key, e2e: { ...e2e, account_key_id: "x" } }), code("validation_failed"));
  });

  it("live under $COUNTERSIGN_KEY_FILE, else the XDG config directory, else ~/.config", () => {
    assert.equal(defaultKeyFilePath({ COUNTERSIGN_KEY_FILE: "/k.json" }, "/home/a"), "/k.json");
    assert.equal(defaultKeyFilePath({ XDG_CONFIG_HOME: "/cfg" }, "/home/a"), "/cfg/countersign/agent-key.json");
    assert.equal(defaultKeyFilePath({}, "/home/a"), "/home/a/.config/countersign/agent-key.json");
  });
});
