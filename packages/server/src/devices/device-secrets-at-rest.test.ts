import assert from "node:assert/strict";
import { before, it } from "node:test";
import {
  cpaceStart,
  fromBase64Url,
  generatePairingCode,
  normalizePairingCode,
  pairingChannelId,
  pairingTransferKey,
  parseRecoverySecret,
  randomBytes,
  recoveryKeyFromSecret,
  sealWithKey,
  toBase64,
  toBase64Url,
  toHex,
  utf8,
} from "@countersign/protocol";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import type { Database } from "../db/database.ts";
import { createDeviceTestKit, type DeviceTestKit } from "./test-support/device-test-kit.ts";

/**
 * Every row of every table, as PostgreSQL's text form of the row (`SELECT t::text`, bytea as
 * hex), and every bytea value's raw bytes, so a secret stored as bytes is found as well.
 */
async function dumpAllTables(db: Database): Promise<{ text: string; bytes: Buffer; tables: string[] }> {
  const { rows: tables } = await db.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
  );
  const text: string[] = [];
  const raw: Buffer[] = [];
  for (const { table_name: table } of tables) {
    const { rows } = await db.query<{ row: string }>(`SELECT t::text AS row FROM "${table}" t`);
    for (const row of rows) text.push(row.row);
    const { rows: values } = await db.query(`SELECT * FROM "${table}"`);
    for (const value of values.flatMap((row) => Object.values(row))) {
      if (value instanceof Uint8Array) {
        raw.push(Buffer.from(value));
        text.push(Buffer.from(value).toString("utf8"));
      }
    }
  }
  return { text: text.join("\n"), bytes: Buffer.concat(raw), tables: tables.map((t) => t.table_name) };
}

describeEachDatabase("what a database dump shows of devices, account keys and pairings", (ctx) => {
  let t: DeviceTestKit;
  const secretBytes: { label: string; value: Uint8Array }[] = [];
  const secretTexts: { label: string; value: string }[] = [];
  let publicKey: Uint8Array;

  before(async () => {
    t = await createDeviceTestKit(ctx.db);
    const { browser, device, keySet } = await t.enrolledPerson();
    publicKey = keySet.publicKey;
    secretBytes.push({ label: "AUK", value: keySet.auk }, { label: "X25519 private key", value: keySet.privateKey });
    secretTexts.push({ label: "recovery secret", value: keySet.recoverySecret });
    secretTexts.push({ label: "recovery secret, ungrouped", value: keySet.recoverySecret.replaceAll("-", "") });
    secretBytes.push({
      label: "recovery key",
      value: recoveryKeyFromSecret(parseRecoverySecret(keySet.recoverySecret), browser.userId),
    });

    // A second device paired over the relay, left in `confirmed` so the sealed AUK is stored.
    const phone = await t.signInAgain(browser);
    const phoneDevice = await t.registerDevice(phone, { name: "Phone" });
    const code = generatePairingCode();
    secretTexts.push({ label: "pairing code", value: normalizePairingCode(code) });
    const sid = randomBytes(16);
    const setup = (ad: string) => ({
      prs: utf8(normalizePairingCode(code)),
      ci: pairingChannelId(browser.userId, t.kit.config.webauthn.origin),
      sid,
      ad: utf8(ad),
    });
    const initiator = cpaceStart("initiator", setup(device.id));
    const started = await t.call(browser, "POST", "/v1/me/pairings", {
      sid: toBase64Url(sid),
      message: toBase64Url(initiator.message),
    });
    assert.equal(started.status, 201);
    const responder = cpaceStart("responder", setup(phoneDevice.id));
    const b = responder.finish(initiator.message);
    const joined = await t.call(phone, "POST", `/v1/me/pairings/${started.body.pairing.id}/join`, {
      message: toBase64Url(responder.message),
      tag: toBase64Url(b.confirmationTag),
    });
    assert.equal(joined.status, 200);
    const a = initiator.finish(responder.message);
    const transferKey = pairingTransferKey(a.isk, sid);
    secretBytes.push({ label: "CPace ISK", value: a.isk }, { label: "pairing transfer key", value: transferKey });
    const confirmed = await t.call(browser, "POST", `/v1/me/pairings/${started.body.pairing.id}/confirm`, {
      tag: toBase64Url(a.confirmationTag),
      sealed_auk: sealWithKey(transferKey, keySet.auk, utf8(`countersign/pairing-auk/v1|${browser.userId}`)),
    });
    assert.equal(confirmed.status, 200);
    const phoneBundle = await t.sealBundle(browser.userId, phoneDevice, keySet.auk, keySet.id);
    await t.call(phone, "PUT", "/v1/me/devices/current/bundle", { bundle: phoneBundle, account_key_id: keySet.id });

    // The recovery material was read, and the key set reset to a second one.
    assert.equal((await t.call(browser, "GET", "/v1/me/account-key/recovery")).status, 200);
    const next = await t.newAccountKeySet(browser.userId, device);
    await t.kit.accounts.stepUp(browser.cookie, browser.authenticator);
    assert.equal((await t.call(browser, "POST", "/v1/me/account-key/reset", next.body)).status, 201);
    secretBytes.push({ label: "second AUK", value: next.auk }, { label: "second private key", value: next.privateKey });
    secretTexts.push({ label: "second recovery secret", value: next.recoverySecret });
    // And a bundle for the new set, and a pairing still waiting.
    const again = await t.call(browser, "GET", "/v1/me/devices/current/bundle");
    assert.equal(again.status, 200);
    const waiting = cpaceStart("initiator", setup(device.id));
    assert.equal(
      (
        await t.call(browser, "POST", "/v1/me/pairings", {
          sid: toBase64Url(randomBytes(16)),
          message: toBase64Url(waiting.message),
        })
      ).status,
      201,
    );
  });

  it("holds the public key, ciphertexts and CPace's public messages, but no AUK, private key or recovery secret", async () => {
    const dump = await dumpAllTables(ctx.db);
    for (const table of ["devices", "account_keys", "pairing_sessions", "sessions", "audit_log"]) {
      assert.ok(dump.tables.includes(table), table);
    }
    const { rows } = await ctx.db.query<{ n: number }>(
      "SELECT (SELECT count(*) FROM account_keys) + (SELECT count(*) FROM pairing_sessions) + (SELECT count(*) FROM devices WHERE bundle IS NOT NULL) AS n",
    );
    assert.ok(Number(rows[0]?.n) >= 5, "the dump covers key sets, pairings and bundles");
    assert.match(dump.text, /v1\.[A-Za-z0-9_-]{40,}/, "sealed values are there, as ciphertext");
    // The search finds what is stored: the public key, as bytes and in the row's hex text.
    assert.notEqual(dump.bytes.indexOf(Buffer.from(publicKey)), -1, "public key as bytes");
    assert.ok(dump.text.includes(toHex(publicKey)), "public key as hex");

    for (const { label, value } of secretBytes) {
      assert.equal(value.length >= 32, true, label);
      for (const encoded of [toHex(value), toBase64Url(value), toBase64(value).replace(/=+$/, "")]) {
        assert.equal(dump.text.toLowerCase().includes(encoded.toLowerCase()), false, `${label} (${encoded})`);
      }
      assert.equal(dump.bytes.indexOf(Buffer.from(value)), -1, `${label} as raw bytes`);
      // Not even half of it: a 16-byte window from the middle.
      assert.equal(dump.bytes.indexOf(Buffer.from(value.slice(8, 24))), -1, `${label}, part, as raw bytes`);
    }
    for (const { label, value } of secretTexts) {
      assert.equal(dump.text.toUpperCase().includes(value.toUpperCase()), false, label);
      const decoded = fromBase64Url(value);
      assert.ok(decoded === null || dump.bytes.indexOf(Buffer.from(decoded)) === -1, label);
    }
  });
});
