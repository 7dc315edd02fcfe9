import assert from "node:assert/strict";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import {
  createSoftAuthenticator,
  type SoftAuthenticator,
  type SoftAuthenticatorOptions,
} from "../../../test-support/soft-authenticator.ts";
import type { AuditSink, AuditSinkEvent } from "../audit-sink.ts";
import { normalizeEmail } from "../normalize-email.ts";

/**
 * Test helpers for the account and passkey routes: requests that pass the host and Origin
 * checks, the session cookie, codes read out of a capturing mailer, and whole sign-ups and
 * sign-ins with the software authenticator. Used by this domain's tests and by later ones (the
 * decision ceremony) that need a signed-in person.
 */

/** A mail as the memory mailer keeps it. */
export interface SentMail {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

/** An audit sink that keeps what it was given, in order (committed or not). */
export interface CapturingAuditSink extends AuditSink {
  readonly events: AuditSinkEvent[];
}

/** A sink for tests; it records at append time, so events of rolled-back transactions appear too. */
export function createCapturingAuditSink(): CapturingAuditSink {
  const events: AuditSinkEvent[] = [];
  return {
    events,
    async append(_tx, event) {
      events.push(event);
    },
  };
}

/** Options of a request. */
export interface CallOptions {
  /** The `Cookie` header, e.g. from {@link AccountTestClient.signUp}. */
  cookie?: string;
  /** The client address (attempt limits count per address). */
  ip?: string;
  /** Overrides the Origin header; null leaves it out. */
  origin?: string | null;
}

/** What a finished sign-up gives a test. */
export interface SignedUp {
  readonly userId: string;
  readonly email: string;
  /** `__Host-cs_session=…`, ready for the Cookie header. */
  readonly cookie: string;
  readonly recoveryCodes: string[];
  readonly passkeyId: string;
  readonly authenticator: SoftAuthenticator;
}

/** The client. */
export interface AccountTestClient {
  call(
    method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
    url: string,
    payload?: unknown,
    options?: CallOptions,
  ): Promise<LightMyRequestResponse>;
  /** The last 6-digit code mailed to `email`; fails the test when there is none. */
  lastCode(email: string): string;
  /** A new software authenticator for this server's relying party. */
  newAuthenticator(options?: Partial<SoftAuthenticatorOptions>): SoftAuthenticator;
  /** Sign-up start → code → ticket → first passkey; asserts every step succeeds. */
  signUp(email: string, options?: { authenticator?: SoftAuthenticator; ip?: string }): Promise<SignedUp>;
  /** Discoverable passkey sign-in; returns the new cookie. */
  signIn(authenticator: SoftAuthenticator, options?: { credentialId?: string; ip?: string }): Promise<string>;
  /** A step-up with the authenticator on the session of `cookie`. */
  stepUp(cookie: string, authenticator: SoftAuthenticator): Promise<void>;
}

/** The session cookie a response set, as a Cookie header value. */
export function sessionCookieOf(res: LightMyRequestResponse): string {
  const header = [res.headers["set-cookie"] ?? []]
    .flat()
    .find((value) => String(value).startsWith("__Host-cs_session="));
  assert.ok(header, "the response sets the session cookie");
  return String(header).split(";")[0] ?? "";
}

/**
 * Builds the client over an app made by `createTestApp` with `services.mailer` a memory mailer.
 *
 * @example
 * ```ts
 * const mailer = createMemoryMailer();
 * const app = await createTestApp(db, { config, services: { mailer } });
 * const client = createAccountTestClient(app, { mailer, webauthn: config.webauthn, host: config.appHost });
 * const alice = await client.signUp("alice@example.com");
 * ```
 */
export function createAccountTestClient(
  app: FastifyInstance,
  deps: {
    mailer: { readonly sent: readonly SentMail[] };
    webauthn: { rpId: string; origin: string };
    host: string;
  },
): AccountTestClient {
  const { mailer, webauthn, host } = deps;

  const client: AccountTestClient = {
    call(method, url, payload, options = {}) {
      const origin = options.origin === undefined ? webauthn.origin : options.origin;
      return app.inject({
        method,
        url,
        headers: {
          host,
          ...(origin === null ? {} : { origin }),
          ...(options.cookie ? { cookie: options.cookie } : {}),
        },
        ...(options.ip ? { remoteAddress: options.ip } : {}),
        ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
      });
    },

    lastCode(email) {
      const to = normalizeEmail(email) ?? email;
      const mail = mailer.sent.filter((m) => m.to === to).at(-1);
      const code = mail?.text.match(/\b(\d{6})\b/)?.[1];
      assert.ok(code, `a code was mailed to ${email}`);
      return code;
    },

    newAuthenticator(options = {}) {
      return createSoftAuthenticator({ origin: webauthn.origin, rpId: webauthn.rpId, ...options });
    },

    async signUp(email, options = {}) {
      const authenticator = options.authenticator ?? client.newAuthenticator();
      const opts = options.ip ? { ip: options.ip } : {};
      const start = await client.call("POST", "/v1/auth/signup/start", { email }, opts);
      assert.equal(start.statusCode, 202, start.body);
      const verify = await client.call("POST", "/v1/auth/signup/verify", { email, code: client.lastCode(email) }, opts);
      assert.equal(verify.statusCode, 200, verify.body);
      const { ticket } = verify.json() as { ticket: string };
      const options1 = await client.call("POST", "/v1/auth/signup/passkey/options", { ticket }, opts);
      assert.equal(options1.statusCode, 200, options1.body);
      const credential = authenticator.register(options1.json());
      const done = await client.call(
        "POST",
        "/v1/auth/signup/passkey/verify",
        { ticket, credential, name: "First passkey" },
        opts,
      );
      assert.equal(done.statusCode, 201, done.body);
      const body = done.json() as { user: { id: string }; passkey: { id: string }; recovery_codes: string[] };
      return {
        userId: body.user.id,
        email,
        cookie: sessionCookieOf(done),
        recoveryCodes: body.recovery_codes,
        passkeyId: body.passkey.id,
        authenticator,
      };
    },

    async signIn(authenticator, options = {}) {
      const opts = options.ip ? { ip: options.ip } : {};
      const res = await client.call("POST", "/v1/auth/passkey/options", {}, opts);
      assert.equal(res.statusCode, 200, res.body);
      const credential = authenticator.authenticate(
        res.json(),
        options.credentialId ? { credentialId: options.credentialId } : {},
      );
      const verify = await client.call("POST", "/v1/auth/passkey/verify", { credential }, opts);
      assert.equal(verify.statusCode, 200, verify.body);
      return sessionCookieOf(verify);
    },

    async stepUp(cookie, authenticator) {
      const res = await client.call("POST", "/v1/auth/step-up/options", {}, { cookie });
      assert.equal(res.statusCode, 200, res.body);
      const credential = authenticator.authenticate(res.json());
      const verify = await client.call("POST", "/v1/auth/step-up/verify", { credential }, { cookie });
      assert.equal(verify.statusCode, 200, verify.body);
    },
  };
  return client;
}
