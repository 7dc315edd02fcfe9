import assert from "node:assert/strict";
import {
  type AccountKeyPair,
  accountKeyFingerprint,
  accountPrivateKeyAad,
  type DisplayPayload,
  decisionChallenge,
  displayPayloadHash,
  type E2eBinding,
  exportEd25519PublicKey,
  fromBase64Url,
  generateAccountKeyPair,
  generateEd25519KeyPair,
  openContext,
  randomBytes,
  randomKey32,
  type SealedContext,
  sealContext,
  sealWithKey,
  signRequest,
  toBase64Url,
  utf8,
} from "@countersign/protocol";
import type { FastifyInstance, InjectOptions } from "fastify";
import { createManualClock, type ManualClock } from "../../../test-support/manual-clock.ts";
import type { SoftAuthenticator } from "../../../test-support/soft-authenticator.ts";
import { createTestApp, createTestConfig } from "../../../test-support/test-app.ts";
import {
  type AccountTestClient,
  createAccountTestClient,
  type SignedUp,
} from "../../accounts/testing/account-test-client.ts";
import { agentKeyId } from "../../agents/agent-key-id.ts";
import { type AppServices, createAppServices } from "../../app-services.ts";
import type { Config } from "../../config/config.ts";
import type { Database } from "../../db/database.ts";
import { buildApp } from "../../http/build-app.ts";
import { createMemoryMailer, type MemoryMailer } from "../../mail/memory-mailer.ts";
import type { ApprovalEvent } from "../../notify/approval-event.ts";

/** A response, reduced to what tests assert on. */
export interface Sent {
  readonly status: number;
  readonly code: string | undefined;
  // biome-ignore lint/suspicious/noExplicitAny: test responses are inspected field by field
  readonly body: any;
  readonly headers: Record<string, unknown>;
}

/** The account key set an end-to-end agent is pinned to, as creation and enrolment answer it. */
export interface TestE2ePin {
  readonly account_key_id: string;
  readonly public_key: string;
  readonly fingerprint: string;
}

/** An enrolled signed agent: its id and its key pair, held "on the agent's machine". */
export interface TestAgent {
  readonly id: string;
  readonly keys: CryptoKeyPair;
  readonly keyId: string;
  /** The pin the enrolment answered with (agents created with `e2e: true`); null otherwise. */
  readonly e2e: TestE2ePin | null;
}

/** A person's account key set, made "on their device": the kit keeps the private key as the app would. */
export interface TestAccountKey {
  readonly id: string;
  readonly keys: AccountKeyPair;
  readonly fingerprint: string;
}

/** A person with a passkey, signed in. */
export interface TestPerson extends SignedUp {}

/** What a decision call may change, to produce what an honest app would not send. */
export interface DecideOptions {
  readonly decision?: "approve" | "reject";
  /** The typed number (approve); default: the right one. */
  readonly number?: string;
  /** Sign and send this hash instead of the one computed from what was rendered. */
  readonly displayPayloadHash?: string;
  readonly notRequested?: boolean;
  /**
   * Decide as a device that cannot decrypt an end-to-end context: hash the payload as served
   * (`context: null`) and send `context_unread: true`.
   */
  readonly contextUnread?: boolean;
  /** Use this authenticator (default: the person's), with any of its credentials for the RP. */
  readonly authenticator?: SoftAuthenticator;
  /** Change the body after signing, to test what the server checks. */
  readonly tamper?: (body: Record<string, unknown>) => void;
}

/** The approval tests' shared world: the real app on a test database, a person, agents. */
export interface ApprovalTestKit {
  readonly app: FastifyInstance;
  readonly config: Config;
  readonly clock: ManualClock;
  readonly mailer: MemoryMailer;
  readonly accounts: AccountTestClient;
  readonly services: AppServices;
  /** Every event published on the bus, in order. */
  readonly events: ApprovalEvent[];
  /** Signs up a new person (email code, passkey). */
  newPerson(email?: string): Promise<TestPerson>;
  /** Creates (with step-up) and enrols a signed agent for `person`. */
  newAgent(person: TestPerson, body?: Record<string, unknown>): Promise<TestAgent>;
  /**
   * Gives `person` an account key set, as the app does on their first device (DESIGN §4.11): an
   * X25519 pair made here, the private key sealed under a random AUK that never leaves the test.
   * With an active set already, it is retired first (a key reset). The kit keeps the private key
   * to open end-to-end context in {@link ApprovalTestKit.openForPerson} and `decide`.
   */
  giveAccountKey(person: TestPerson): Promise<TestAccountKey>;
  /**
   * What an agent sends for an end-to-end request: `body` with `context` replaced by
   * `context_e2e`, sealed to the agent's pin (or `pin`) with the binding the app rebuilds.
   */
  sealBody(agent: TestAgent, body: Record<string, unknown>, pin?: TestE2ePin): Promise<Record<string, unknown>>;
  /**
   * The app's side of an end-to-end request: opens `context_e2e` of a person view with the
   * person's account private key and returns the display payload as rendered, context included.
   */
  openForPerson(person: TestPerson, approval: Record<string, unknown>): Promise<DisplayPayload>;
  /** A signed agent request, as the agent would send it. */
  agentCall(
    agent: TestAgent,
    method: "GET" | "POST" | "DELETE",
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Sent>;
  /**
   * The headers an agent sends, signed for `config.apiHost` (Host included): for requests over
   * a real connection (SSE), where `agentCall`'s in-process injection does not apply.
   */
  signedHeaders(
    agent: TestAgent,
    method: "GET" | "POST" | "DELETE",
    url: string,
    body?: Uint8Array,
    headers?: Record<string, string>,
  ): Promise<Record<string, string>>;
  /** `POST /v1/approvals` with a fresh Idempotency-Key unless one is given. */
  ask(agent: TestAgent, body?: Record<string, unknown>, idempotencyKey?: string): Promise<Sent>;
  /** A person-facing call with the session cookie and the app's Origin. */
  personCall(person: TestPerson, method: "GET" | "POST" | "PATCH", url: string, body?: unknown): Promise<Sent>;
  /**
   * The app's decision: fetches the request and its nonce, hashes the rendered display payload,
   * signs the decision challenge with the passkey and posts it. Returns the response and what was sent.
   */
  decide(
    person: TestPerson,
    approvalId: string,
    options?: DecideOptions,
  ): Promise<{ res: Sent; body: Record<string, unknown> }>;
  send(request: InjectOptions): Promise<Sent>;
}

/** A default request body. */
export const ASK = {
  action_type: "deploy.production",
  title: "Deploy api v2.3.1",
  body: "Rolls out 3 services.",
  context: { commit: "a1b2c3", services: 3 },
};

/** Builds the kit on `db`; call it in a `before`. */
export async function createApprovalTestKit(
  db: Database,
  options: {
    env?: Record<string, string>;
    services?: Partial<AppServices>;
    /** Run on the system clock (for tests with another process, which cannot share a manual one). */
    realTime?: boolean;
    /** Where the manual clock starts (default: a fixed instant); ignored with `realTime`. */
    startAt?: number;
    /** Log at trace level to this stream instead of not at all (tests that read the logs). */
    logStream?: { write(line: string): void };
  } = {},
): Promise<ApprovalTestKit> {
  const clock: ManualClock = options.realTime
    ? {
        now: () => Date.now(),
        set: () => assert.fail("a real-time kit's clock cannot be set"),
        advance: () => assert.fail("a real-time kit's clock cannot be advanced"),
      }
    : createManualClock(options.startAt);
  const config = createTestConfig({ COUNTERSIGN_AUTH_MIN_DURATION_MS: "0", ...options.env });
  const mailer = createMemoryMailer();
  const services = createAppServices({ config, db, clock }, { mailer, ...options.services });
  const app =
    options.logStream === undefined
      ? await createTestApp(db, { config, clock, services })
      : await buildApp({ config, db, clock, services, logLevel: "trace", logStream: options.logStream });
  const events: ApprovalEvent[] = [];
  await app.ready();
  // Subscribing per user happens in newPerson; every event is also kept here.
  const accounts = createAccountTestClient(app, { mailer, webauthn: config.webauthn, host: config.appHost });

  const send = async (request: InjectOptions): Promise<Sent> => {
    const res = await app.inject(request);
    const body = res.body === "" ? {} : JSON.parse(res.body);
    return { status: res.statusCode, code: body?.error?.code, body, headers: res.headers };
  };

  const signedHeaders: ApprovalTestKit["signedHeaders"] = async (agent, method, url, bytes, headers = {}) => {
    const q = url.indexOf("?");
    const base: Record<string, string> = { ...(bytes ? { "content-type": "application/json" } : {}), ...headers };
    const added = await signRequest(
      {
        method,
        authority: config.apiHost,
        path: q === -1 ? url : url.slice(0, q),
        query: q === -1 ? "" : url.slice(q),
        headers: base,
        ...(bytes ? { body: bytes } : {}),
      },
      { keyId: agent.keyId, privateKey: agent.keys.privateKey },
      { created: Math.floor(clock.now() / 1000), nonce: toBase64Url(randomBytes(16)) },
    );
    return { host: config.apiHost, ...base, ...added };
  };

  const agentCall: ApprovalTestKit["agentCall"] = async (agent, method, url, body, headers = {}) => {
    const bytes = body === undefined ? undefined : utf8(JSON.stringify(body));
    return send({
      method,
      url,
      headers: await signedHeaders(agent, method, url, bytes, headers),
      remoteAddress: "127.0.0.1",
      ...(bytes ? { payload: Buffer.from(bytes) } : {}),
    });
  };

  const personCall: ApprovalTestKit["personCall"] = async (person, method, url, body) => {
    const res = await accounts.call(method, url, body, { cookie: person.cookie });
    const parsed = res.body === "" ? {} : JSON.parse(res.body);
    return { status: res.statusCode, code: parsed?.error?.code, body: parsed, headers: res.headers };
  };

  // The account private keys "on the person's device", by user id.
  const accountKeys = new Map<string, TestAccountKey>();

  let people = 0;
  const kit: ApprovalTestKit = {
    app,
    config,
    clock,
    mailer,
    accounts,
    services,
    events,
    send,
    signedHeaders,
    agentCall,
    personCall,

    async newPerson(email) {
      people += 1;
      const person = await accounts.signUp(email ?? `person${people}-${toBase64Url(randomBytes(4))}@example.com`);
      services.events.subscribe({ userId: person.userId }, (event) => events.push(event));
      return person;
    },

    async newAgent(person, body = {}) {
      await accounts.stepUp(person.cookie, person.authenticator);
      const created = await personCall(person, "POST", "/v1/agents", {
        name: "Deploy bot",
        allowed_actions: ["deploy.*", "db.migrate"],
        ...body,
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const keys = await generateEd25519KeyPair();
      const raw = await exportEd25519PublicKey(keys.publicKey);
      const unenrolled = { id: created.body.agent.id as string, keys, keyId: agentKeyId(raw), e2e: null };
      const enrolled = await agentCall(unenrolled, "POST", "/v1/agents/enroll", {
        code: created.body.credential.code,
        public_key: toBase64Url(raw),
      });
      assert.equal(enrolled.status, 200, JSON.stringify(enrolled.body));
      return { ...unenrolled, e2e: (enrolled.body.e2e as TestE2ePin | null) ?? null };
    },

    async giveAccountKey(person) {
      const keys = generateAccountKeyPair();
      const id = `ak_${toBase64Url(randomBytes(16))}`;
      const fingerprint = accountKeyFingerprint(keys.publicKey);
      const auk = randomKey32();
      const now = new Date(clock.now());
      await db.transaction(async (tx) => {
        await tx.query("UPDATE account_keys SET retired_at = $2 WHERE user_id = $1 AND retired_at IS NULL", [
          person.userId,
          now,
        ]);
        await tx.query(
          `INSERT INTO account_keys (id, user_id, public_key, fingerprint, encrypted_private_key, created_at)
           VALUES ($1, $2, $3, $4, $5, $6)`,
          [
            id,
            person.userId,
            keys.publicKey,
            fingerprint,
            sealWithKey(auk, keys.privateKey, accountPrivateKeyAad(person.userId, id)),
            now,
          ],
        );
      });
      const key = { id, keys, fingerprint };
      accountKeys.set(person.userId, key);
      return key;
    },

    async sealBody(agent, body, pin = agent.e2e ?? undefined) {
      assert.ok(pin, "the agent is pinned to an account key set");
      const publicKey = fromBase64Url(pin.public_key);
      assert.ok(publicKey);
      const { context, ...rest } = body;
      const binding = bindingOf({
        agent_id: agent.id,
        action_type: rest.action_type as string,
        title: rest.title as string,
        body: rest.body as string | undefined,
        binding_message: rest.binding_message as string | undefined,
      });
      const sealed = await sealContext({
        publicKey,
        kid: pin.account_key_id,
        context: (context ?? {}) as Record<string, unknown>,
        binding,
      });
      return { ...rest, context_e2e: sealed };
    },

    async openForPerson(person, approval) {
      const key = accountKeys.get(person.userId);
      assert.ok(key, "the person was given an account key set through the kit");
      const shown = approval.display_payload as Omit<DisplayPayload, "context">;
      const context = await openContext({
        privateKey: key.keys.privateKey,
        sealed: approval.context_e2e as SealedContext,
        binding: bindingOf({ ...shown, binding_message: shown.binding_message ?? undefined }),
      });
      return { ...shown, context };
    },

    ask: (agent, body = ASK, idempotencyKey) =>
      agentCall(agent, "POST", "/v1/approvals", body, { "idempotency-key": idempotencyKey ?? crypto.randomUUID() }),

    async decide(person, approvalId, opts = {}) {
      const decision = opts.decision ?? "approve";
      const shown = await personCall(person, "GET", `/v1/me/approvals/${approvalId}`);
      assert.equal(shown.status, 200, JSON.stringify(shown.body));
      // An end-to-end request is rendered from its decrypted context, as the app does.
      const display =
        shown.body.approval.e2e === true && opts.contextUnread !== true
          ? await kit.openForPerson(person, shown.body.approval)
          : (shown.body.approval.display_payload as DisplayPayload);
      const nonce = shown.body.decision?.nonce as string;
      assert.ok(nonce, "an open request comes with a decision nonce");
      const hash = opts.displayPayloadHash ?? (await displayPayloadHash(display));
      const challenge = toBase64Url(
        await decisionChallenge({ requestId: approvalId, decision, displayPayloadHash: hash, nonce }),
      );
      const credential = (opts.authenticator ?? person.authenticator).authenticate({
        challenge,
        rpId: shown.body.decision.rp_id,
        allowCredentials: opts.authenticator === undefined ? shown.body.decision.allow_credentials : [],
        userVerification: "required",
      });
      const body: Record<string, unknown> = {
        decision,
        display_payload_hash: hash,
        nonce,
        credential,
        ...(decision === "approve" ? { number: opts.number ?? (await numberOf(approvalId)) } : {}),
        ...(opts.notRequested ? { not_requested: true } : {}),
        ...(opts.contextUnread ? { context_unread: true } : {}),
      };
      opts.tamper?.(body);
      const res = await personCall(person, "POST", `/v1/me/approvals/${approvalId}/decision`, body);
      return { res, body };
    },
  };

  // The number the agent shows: tests read it from what creation answered, kept per request.
  const numbers = new Map<string, string>();
  const ask = kit.ask;
  kit.ask = async (agent, body, key) => {
    const res = await ask(agent, body, key);
    if (typeof res.body?.number_match === "string") numbers.set(res.body.id, res.body.number_match);
    return res;
  };
  async function numberOf(approvalId: string): Promise<string> {
    const number = numbers.get(approvalId);
    assert.ok(number, "the test asked for this request through the kit");
    return number;
  }
  return kit;
}

/** The e2e binding both sides build (spec §Amendments): an empty body and no binding message are absent. */
function bindingOf(fields: {
  agent_id: string;
  action_type: string;
  title: string;
  body?: string | undefined;
  binding_message?: string | undefined;
}): E2eBinding {
  return {
    agent_id: fields.agent_id,
    action_type: fields.action_type,
    title: fields.title,
    ...(fields.body ? { body: fields.body } : {}),
    ...(fields.binding_message ? { binding_message: fields.binding_message } : {}),
  };
}
