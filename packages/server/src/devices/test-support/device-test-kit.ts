import assert from "node:assert/strict";
import {
  accountPrivateKeyAad,
  generateAccountKeyPair,
  generateRecoverySecret,
  parseRecoverySecret,
  randomBytes,
  randomKey32,
  recoveryAukAad,
  recoveryKeyFromSecret,
  sealWithKey,
  toBase64Url,
} from "@countersign/protocol";
import { wrapBundle } from "../../../../web/src/device/credential-bundle.ts";
import type { SoftAuthenticator } from "../../../test-support/soft-authenticator.ts";
import {
  type ApprovalTestKit,
  createApprovalTestKit,
  type Sent,
  type TestPerson,
} from "../../approvals/test-support/approval-test-kit.ts";
import type { Database } from "../../db/database.ts";
import { deviceAttachMessage } from "../device-attach-message.ts";

/** A browser's Device Key, as the app keeps it in IndexedDB (here in memory). */
export interface TestDevice {
  readonly id: string;
  /** ECDSA P-256, non-extractable private key: the device's identity. */
  readonly signing: CryptoKeyPair;
  /** AES-GCM-256, non-extractable: wraps the AUK into the credential bundle. */
  readonly wrapping: CryptoKey;
}

/** A browser session of a person: its cookie and the passkey it signs in with. */
export interface TestBrowser {
  readonly userId: string;
  readonly cookie: string;
  readonly authenticator: SoftAuthenticator;
}

/** An account key set made on the client, with the secrets the server must never see. */
export interface TestAccountKeySet {
  readonly id: string;
  readonly publicKey: Uint8Array;
  readonly privateKey: Uint8Array;
  readonly auk: Uint8Array;
  readonly recoverySecret: string;
  /** The body of `POST /v1/me/account-key` for `device`. */
  readonly body: Record<string, string>;
}

/** The devices tests' world: the approval kit (real app, test clock, people) plus Device Keys. */
export interface DeviceTestKit {
  readonly kit: ApprovalTestKit;
  /** A person-facing call of any method with the session cookie and the app's Origin. */
  call(
    browser: { cookie: string },
    method: "GET" | "POST" | "PUT" | "DELETE",
    url: string,
    body?: unknown,
  ): Promise<Sent>;
  /** A new device key pair and wrapping key, without registering anything. */
  newDeviceKeys(): Promise<{ signing: CryptoKeyPair; wrapping: CryptoKey; spki: string }>;
  /** Steps up, then registers a new device for the browser's session; asserts 201. */
  registerDevice(browser: TestBrowser, options?: { name?: string; platform?: string }): Promise<TestDevice>;
  /** The attach signature of `device` for the session with this handle. */
  attachSignature(device: Pick<TestDevice, "id" | "signing">, sessionHandle: string): Promise<string>;
  /** Reads the session handle, signs, and attaches the browser's session to the device. */
  attach(browser: TestBrowser, device: Pick<TestDevice, "id" | "signing">): Promise<Sent>;
  /** A second browser of the same person: a fresh passkey sign-in (a new session, no device). */
  signInAgain(browser: TestBrowser): Promise<TestBrowser>;
  /**
   * Seals the AUK into `device`'s credential bundle for the key set `accountKeyId`, with the app's
   * own `wrapBundle` (spec §0: AES-GCM, aad `countersign/credential-bundle/v1|user|device|key set`).
   */
  sealBundle(userId: string, device: TestDevice, auk: Uint8Array, accountKeyId: string): Promise<string>;
  /** A new account key set for `userId` with `device`'s bundle, made with the protocol functions. */
  newAccountKeySet(userId: string, device: TestDevice): Promise<TestAccountKeySet>;
  /** A signed-up person whose session is bound to a registered device holding the account key set. */
  enrolledPerson(): Promise<{
    person: TestPerson;
    browser: TestBrowser;
    device: TestDevice;
    keySet: TestAccountKeySet;
  }>;
}

const subtle = globalThis.crypto.subtle;

/** Builds the kit on `db`; call it in a `before`. */
export async function createDeviceTestKit(db: Database): Promise<DeviceTestKit> {
  const kit = await createApprovalTestKit(db);

  const call: DeviceTestKit["call"] = async (browser, method, url, body) => {
    const res = await kit.accounts.call(method, url, body, { cookie: browser.cookie });
    const parsed = res.body === "" ? {} : JSON.parse(res.body);
    return { status: res.statusCode, code: parsed?.error?.code, body: parsed, headers: res.headers };
  };

  const newDeviceKeys: DeviceTestKit["newDeviceKeys"] = async () => {
    const signing = (await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, [
      "sign",
      "verify",
    ])) as CryptoKeyPair;
    const wrapping = (await subtle.generateKey({ name: "AES-GCM", length: 256 }, false, [
      "encrypt",
      "decrypt",
    ])) as CryptoKey;
    const spki = toBase64Url(new Uint8Array(await subtle.exportKey("spki", signing.publicKey)));
    return { signing, wrapping, spki };
  };

  const attachSignature: DeviceTestKit["attachSignature"] = async (device, sessionHandle) => {
    const signature = await subtle.sign(
      { name: "ECDSA", hash: "SHA-256" },
      device.signing.privateKey,
      new Uint8Array(deviceAttachMessage(sessionHandle, device.id)),
    );
    return toBase64Url(new Uint8Array(signature));
  };

  // The app's own sealing (spec §0), so a bundle made here is one the app would make and open.
  const sealBundle: DeviceTestKit["sealBundle"] = (userId, device, auk, accountKeyId) =>
    wrapBundle(device.wrapping, auk, userId, device.id, accountKeyId);

  const devicesKit: DeviceTestKit = {
    kit,
    call,
    newDeviceKeys,
    attachSignature,
    sealBundle,

    async registerDevice(browser, options = {}) {
      const keys = await newDeviceKeys();
      await kit.accounts.stepUp(browser.cookie, browser.authenticator);
      const res = await call(browser, "POST", "/v1/me/devices", {
        name: options.name ?? "Laptop",
        platform: options.platform ?? "macOS",
        public_key: keys.spki,
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return { id: res.body.device.id as string, signing: keys.signing, wrapping: keys.wrapping };
    },

    async attach(browser, device) {
      const list = await call(browser, "GET", "/v1/me/devices");
      assert.equal(list.status, 200, JSON.stringify(list.body));
      const signature = await attachSignature(device, list.body.session_handle);
      return call(browser, "POST", `/v1/me/devices/${device.id}/attach`, { signature });
    },

    async signInAgain(browser) {
      const cookie = await kit.accounts.signIn(browser.authenticator);
      return { userId: browser.userId, cookie, authenticator: browser.authenticator };
    },

    async newAccountKeySet(userId, device) {
      const id = `ak_${toBase64Url(randomBytes(16))}`;
      const pair = generateAccountKeyPair();
      const auk = randomKey32();
      const recoverySecret = generateRecoverySecret();
      const recoveryKey = recoveryKeyFromSecret(parseRecoverySecret(recoverySecret), userId);
      const body = {
        id,
        public_key: toBase64Url(pair.publicKey),
        encrypted_private_key: sealWithKey(auk, pair.privateKey, accountPrivateKeyAad(userId, id)),
        recovery_wrapped_auk: sealWithKey(recoveryKey, auk, recoveryAukAad(userId, id)),
        bundle: await sealBundle(userId, device, auk, id),
      };
      return { id, publicKey: pair.publicKey, privateKey: pair.privateKey, auk, recoverySecret, body };
    },

    async enrolledPerson() {
      const person = await kit.newPerson();
      const browser: TestBrowser = {
        userId: person.userId,
        cookie: person.cookie,
        authenticator: person.authenticator,
      };
      const device = await devicesKit.registerDevice(browser);
      const keySet = await devicesKit.newAccountKeySet(person.userId, device);
      const created = await call(browser, "POST", "/v1/me/account-key", keySet.body);
      assert.equal(created.status, 201, JSON.stringify(created.body));
      return { person, browser, device, keySet };
    },
  };
  return devicesKit;
}
