import {
  CountersignError,
  type Ed25519PrivateJwk,
  importEd25519PrivateJwk,
  isCountersignError,
} from "@countersign/protocol";
import { checkApprovedReceipt } from "../e2e/check-approved-receipt.ts";
import { type E2ePin, parseE2ePin } from "../e2e/e2e-pin.ts";
import { localDisplayHash } from "../e2e/local-display-hash.ts";
import { sealRequestContext } from "../e2e/seal-request-context.ts";
import type { AgentKeyFile } from "../key-file/agent-key-file.ts";
import { agentKeyId } from "./agent-key-id.ts";
import { approvalEvents, type EventsOptions } from "./approval-events.ts";
import { type ApprovalInput, approvalRequestBody } from "./approval-input.ts";
import type { ApprovalOutcome } from "./approval-outcome.ts";
import { type ApprovalState, parseApprovalState } from "./approval-state.ts";
import { parseServerUrl } from "./parse-server-url.ts";
import { createSignedTransport } from "./signed-transport.ts";
import { type WaitOptions, waitForOutcome } from "./wait-for-outcome.ts";

/**
 * Options of {@link createAgentClient}. Give `keyFile`, or `privateKey`.
 *
 * @example
 * ```ts
 * const options: AgentClientOptions = { keyFile: "agent-key.json", retries: 5, requestTimeoutMs: 10_000 };
 * ```
 */
export interface AgentClientOptions {
  /** The API origin, e.g. `https://api.countersign.example`; read from the key file when left out. */
  readonly server?: string | URL;
  /** A key file written by `countersign-agent enroll` (Node only). */
  readonly keyFile?: string;
  /** The agent's Ed25519 private key: a JWK, or a CryptoKey together with `keyId`. */
  readonly privateKey?: Ed25519PrivateJwk | CryptoKey;
  /** The key id; computed from a JWK, required with a CryptoKey. */
  readonly keyId?: string;
  /** `agt_…`; read from the key file when left out. The receipts' audience, and bound into end-to-end context. */
  readonly agentId?: string;
  /**
   * The account key set to encrypt `context` to (DESIGN §4.11), as enrolment answered it; read
   * from the key file when left out. With a pin, every request's context is sealed to it and only
   * the ciphertext is sent, and receipts are checked against the locally computed display hash.
   * `null` says the agent sends plaintext context. When neither this nor the key file says, the
   * client asks `whoami` once before it first sends a context, and refuses to send it in plaintext
   * for an agent created with end-to-end context (`e2e_context_required`).
   */
  readonly e2e?: E2ePin | null;
  /** The `fetch` to use (a proxy-aware one, or a test double); the global one by default. */
  readonly fetch?: typeof fetch;
  /** The current time in milliseconds, for signatures' `created`; `Date.now` by default. */
  readonly now?: () => number;
  /** How long one HTTP attempt may take; 30 s by default. Long-polls get their wait on top. */
  readonly requestTimeoutMs?: number;
  /** How many times a request that failed on the network (or got 502/503/504) is retried; 3 by default. */
  readonly retries?: number;
  /** How long after a request's expiry `wait` still asks for its final state; 30 s by default. */
  readonly expiryGraceMs?: number;
}

/**
 * The authenticated agent, from `GET /v1/agent/whoami`.
 *
 * @example
 * ```ts
 * const me: AgentIdentity = await client.whoami();
 * console.log(me.agentId, me.allowedActions);
 * ```
 */
export interface AgentIdentity {
  readonly agentId: string;
  readonly name: string;
  readonly authMode: "signed" | "bearer_only";
  readonly verified: boolean;
  /** Exact action types and `prefix.*` patterns. */
  readonly allowedActions: readonly string[];
  readonly defaultTtlSeconds: number | null;
  readonly credentialsVersion: number;
  readonly keyId: string | null;
  /**
   * The account key set the server says the agent is pinned to, or null. For information only:
   * the pin used is the one from enrolment, never this.
   */
  readonly e2e: E2ePin | null;
}

/**
 * A request the person has been asked to approve; from {@link AgentClient.requestApproval}.
 *
 * @example
 * ```ts
 * const approval = await client.requestApproval({ actionType: "deploy.production", title: "Deploy" });
 * console.log(`type ${approval.numberMatch} on your phone`);
 * const outcome = await approval.wait({ signal: AbortSignal.timeout(600_000) });
 * ```
 */
export interface PendingApproval {
  readonly id: string;
  /** The 6-digit number to show the person, who types it on their phone. Show it straight away. */
  readonly numberMatch: string | null;
  /**
   * The hash of what the person is shown (DESIGN §4.5); with end-to-end context, computed here
   * over the plaintext context, since the server cannot. {@link PendingApproval.wait} refuses a
   * receipt whose `dph` is not this.
   */
  readonly displayPayloadHash: string;
  readonly expiresAt: Date;
  /** False when an open request for the same action type was returned instead (in-flight suppression). */
  readonly created: boolean;
  /** The state as created. */
  readonly approval: ApprovalState;
  /**
   * Resolves once the request ends; never hangs (see {@link AgentClient.wait}). An approval whose
   * receipt's `dph` is not {@link PendingApproval.displayPayloadHash} is refused with
   * `display_hash_mismatch`: the person approved something else than this agent asked.
   */
  wait(options?: WaitOptions): Promise<ApprovalOutcome>;
  /** Cancels the request; returns its final state. */
  cancel(options?: { signal?: AbortSignal }): Promise<ApprovalState>;
  /** The request's SSE stream (see {@link AgentClient.events}). */
  events(options?: EventsOptions): AsyncGenerator<ApprovalState, void, undefined>;
}

/**
 * Options of {@link AgentClient.requestApproval}.
 *
 * @example
 * ```ts
 * await client.requestApproval(input, { idempotencyKey: `deploy-${buildId}` });
 * ```
 */
export interface RequestApprovalOptions {
  /** Sent as `Idempotency-Key`; a fresh UUID by default. Reuse it to retry the same request yourself. */
  readonly idempotencyKey?: string;
  readonly signal?: AbortSignal;
}

/**
 * A client for the agent API; from {@link createAgentClient}.
 *
 * @example
 * ```ts
 * const client: AgentClient = await createAgentClient({ keyFile: "agent-key.json" });
 * const state = await client.get("apr_3Jq9V1mJ0xN6R8dE2pLkWa");
 * ```
 */
export interface AgentClient {
  /** The API origin requests go to. */
  readonly server: URL;
  readonly keyId: string;
  /** `agt_…` when known (from the options or the key file). */
  readonly agentId: string | undefined;
  /** The pinned account key set when context is encrypted end to end (DESIGN §4.11). */
  readonly e2e: E2ePin | undefined;
  /** The agent as the server sees it; a cheap check that the credentials work. */
  whoami(options?: { signal?: AbortSignal }): Promise<AgentIdentity>;
  /** Asks the person to approve an action: `POST /v1/approvals`. Show `numberMatch` to them at once. */
  requestApproval(input: ApprovalInput, options?: RequestApprovalOptions): Promise<PendingApproval>;
  /**
   * The request's current state; `wait` (1–30 s) long-polls for a decision first. An approved
   * state's receipt is checked against `displayPayloadHash` when given — and must be, on a client
   * pinned for end-to-end context (else `display_hash_mismatch`); the same holds for `cancel`,
   * `events` and `wait`.
   */
  get(
    id: string,
    options?: { wait?: number; signal?: AbortSignal; displayPayloadHash?: string },
  ): Promise<ApprovalState>;
  /** Cancels an open request and returns its final state (whatever ended it, if it already had). */
  cancel(id: string, options?: { signal?: AbortSignal; displayPayloadHash?: string }): Promise<ApprovalState>;
  /** Follows a request over SSE: its state now and on each change, until it ends. */
  events(id: string, options?: EventsOptions): AsyncGenerator<ApprovalState, void, undefined>;
  /**
   * Waits until the request ends and resolves with how: `approved` (with the receipt),
   * `rejected`, `expired` or `canceled`. It never hangs: it gives up with `service_unavailable`
   * if the server has not given a final state by the request's expiry plus `expiryGraceMs`, and
   * rejects with the signal's reason when `signal` aborts (the request stays open).
   */
  wait(request: string | ApprovalState, options?: WaitOptions): Promise<ApprovalOutcome>;
}

/**
 * Creates a client for the Countersign agent API. Every request is signed with the agent's
 * Ed25519 key under the RFC 9421 profile (DESIGN §4.1); requests that fail on the network are
 * retried with the same Idempotency-Key and body, so they never run twice. Every error is a
 * `CountersignError` whose `code` is one of the shared codes.
 *
 * The signing runs on WebCrypto Ed25519, in Node ≥ 22, Deno, Bun, Workers and browsers;
 * `keyFile` needs Node.
 *
 * @throws CountersignError `validation_failed` for bad options, `unknown_agent` for a missing key file.
 *
 * @example
 * ```ts
 * import { createAgentClient } from "@countersign/agent";
 *
 * const client = await createAgentClient({ keyFile: "agent-key.json" });
 * const approval = await client.requestApproval({ actionType: "deploy.production", title: "Deploy api v2.3.1" });
 * console.log(`Approve on your phone and type ${approval.numberMatch}`);
 * const outcome = await approval.wait();
 * if (outcome.status === "approved") await deploy({ receipt: outcome.receipt });
 * ```
 */
export async function createAgentClient(options: AgentClientOptions): Promise<AgentClient> {
  let file: AgentKeyFile | undefined;
  if (options.keyFile !== undefined) {
    const { readKeyFile } = await import("../key-file/read-key-file.ts");
    file = await readKeyFile(options.keyFile);
  }
  const keySource = options.privateKey ?? file;
  if (keySource === undefined) throw invalidOption("give keyFile or privateKey");
  let privateKey: CryptoKey;
  let keyId: string;
  if (isCryptoKey(keySource)) {
    if (options.keyId === undefined) throw invalidOption("keyId is required with a CryptoKey");
    privateKey = keySource;
    keyId = options.keyId;
  } else {
    try {
      privateKey = await importEd25519PrivateJwk(keySource);
      keyId = agentKeyId(keySource.x);
    } catch (error) {
      throw invalidOption("privateKey is not an Ed25519 private JWK", error);
    }
    if (options.keyId !== undefined && options.keyId !== keyId)
      throw invalidOption("keyId is not the key's thumbprint");
  }
  const serverOption = options.server ?? file?.server;
  if (serverOption === undefined) throw invalidOption("server is required (the key file does not name one)");
  const server = parseServerUrl(serverOption);
  const agentId = options.agentId ?? file?.agent_id;
  const pinSource = options.e2e !== undefined ? options.e2e : file?.e2e;
  const e2e = pinSource === undefined || pinSource === null ? undefined : parseE2ePin(pinSource);
  // Without a pin: whether plaintext context may be sent, known (null pin) or asked once.
  let plaintextAllowed: Promise<boolean> | undefined = pinSource === null ? Promise.resolve(true) : undefined;
  const retries = options.retries ?? 3;
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const graceMs = options.expiryGraceMs ?? 30_000;
  if (!Number.isInteger(retries) || retries < 0) throw invalidOption("retries must be a non-negative integer");
  if (!(requestTimeoutMs > 0)) throw invalidOption("requestTimeoutMs must be positive");
  if (!(graceMs >= 0)) throw invalidOption("expiryGraceMs must be non-negative");

  const transport = createSignedTransport({
    server,
    signer: { keyId, privateKey },
    fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
    now: options.now ?? Date.now,
    requestTimeoutMs,
    retries,
  });
  // The sealed bodies of the latest requests made with a caller's Idempotency-Key, by key.
  const sealedByKey = new Map<string, { plain: string; sealed: Awaited<ReturnType<typeof sealRequestContext>> }>();
  const rememberSealed = (
    key: string,
    entry: { plain: string; sealed: Awaited<ReturnType<typeof sealRequestContext>> },
  ) => {
    sealedByKey.delete(key);
    sealedByKey.set(key, entry);
    if (sealedByKey.size > SEALED_BODIES_KEPT) sealedByKey.delete(sealedByKey.keys().next().value as string);
  };
  // Every approved state leaves the client only through this (see checkApprovedReceipt).
  const checked = (state: ApprovalState, expected: string | undefined): ApprovalState => {
    checkApprovedReceipt(state, expected, e2e !== undefined);
    return state;
  };
  const path = (id: string): string => {
    if (typeof id !== "string" || !/^apr_[A-Za-z0-9_-]{22}$/.test(id)) {
      throw new CountersignError("validation_failed", { message: "An approval id looks like apr_ and 22 characters." });
    }
    return `/v1/approvals/${id}`;
  };

  const client: AgentClient = {
    server,
    keyId,
    agentId,
    e2e,

    async whoami(call = {}) {
      const { body } = await transport.json("GET", "/v1/agent/whoami", { signal: call.signal });
      return parseIdentity(body);
    },

    async requestApproval(input, call = {}) {
      let json = approvalRequestBody(input);
      let context: Record<string, unknown> | undefined;
      const idempotencyKey = call.idempotencyKey ?? globalThis.crypto.randomUUID();
      if (e2e === undefined && input.context !== undefined) {
        plaintextAllowed ??= client.whoami({ ...(call.signal ? { signal: call.signal } : {}) }).then(
          (me) => me.e2e === null,
          (error: unknown) => {
            plaintextAllowed = undefined;
            throw error;
          },
        );
        if (!(await plaintextAllowed)) {
          throw new CountersignError("e2e_context_required", {
            message:
              "This agent encrypts its context end to end, but this client has no pinned account key: enrol again " +
              "(the key file then holds the pin) or pass e2e; the context was not sent.",
          });
        }
      }
      if (e2e !== undefined) {
        // HPKE sealing is randomized: a caller retrying with its own Idempotency-Key must send the
        // same ciphertext again, or the server sees another body (idempotency_key_reused).
        const plain = JSON.stringify(json);
        const earlier = call.idempotencyKey === undefined ? undefined : sealedByKey.get(idempotencyKey);
        const sealed =
          earlier?.plain === plain ? earlier.sealed : await sealRequestContext(json, { pin: e2e, agentId });
        if (call.idempotencyKey !== undefined) rememberSealed(idempotencyKey, { plain, sealed });
        ({ body: json, context } = sealed);
      }
      const { status, body } = await transport.json("POST", "/v1/approvals", {
        json,
        idempotencyKey,
        signal: call.signal,
      });
      const answered = parseApprovalState(body);
      let displayPayloadHash = answered.displayPayloadHash;
      if (context !== undefined) {
        displayPayloadHash = await localDisplayHash(
          (body as { display_payload?: unknown }).display_payload,
          context,
          {
            agentId: agentId as string,
            actionType: input.actionType,
            title: input.title,
            body: input.body,
            bindingMessage: input.bindingMessage,
          },
          status === 201,
        );
        if (answered.displayPayloadHash !== null && answered.displayPayloadHash !== displayPayloadHash) {
          throw new CountersignError("display_hash_mismatch", {
            message: "The server's display payload hash is not the one computed over this agent's context.",
          });
        }
      }
      if (displayPayloadHash === null) {
        throw new CountersignError("internal_error", { message: "The server's answer has no display payload hash." });
      }
      const approval = Object.freeze({ ...answered, displayPayloadHash });
      const expected = displayPayloadHash;
      return {
        id: approval.id,
        numberMatch: approval.numberMatch,
        displayPayloadHash,
        expiresAt: approval.expiresAt,
        created: status === 201,
        approval,
        wait: (waitOptions) => client.wait(approval, { ...waitOptions, displayPayloadHash: expected }),
        cancel: (cancelOptions) => client.cancel(approval.id, { ...cancelOptions, displayPayloadHash: expected }),
        events: (eventsOptions) => client.events(approval.id, { ...eventsOptions, displayPayloadHash: expected }),
      };
    },

    async get(id, call = {}) {
      const wait = call.wait ?? 0;
      if (!Number.isInteger(wait) || wait < 0 || wait > 30) {
        throw new CountersignError("validation_failed", {
          message: "wait must be a whole number of seconds from 0 to 30.",
        });
      }
      const { body } = await transport.json("GET", path(id), {
        query: wait > 0 ? `?wait=${wait}` : "",
        signal: call.signal,
        timeoutMs: requestTimeoutMs + wait * 1000,
      });
      return checked(parseApprovalState(body), call.displayPayloadHash);
    },

    async cancel(id, call = {}) {
      try {
        const { body } = await transport.json("DELETE", path(id), { signal: call.signal });
        return checked(parseApprovalState(body), call.displayPayloadHash);
      } catch (error) {
        // Already ended — by a decision, an expiry, or this very call whose answer was lost.
        if (isCountersignError(error, "approval_not_pending") || isCountersignError(error, "approval_expired")) {
          return client.get(id, {
            ...(call.signal ? { signal: call.signal } : {}),
            ...(call.displayPayloadHash === undefined ? {} : { displayPayloadHash: call.displayPayloadHash }),
          });
        }
        throw error;
      }
    },

    events(id, eventsOptions = {}) {
      path(id);
      const states = approvalEvents(transport, id, { ...eventsOptions, retries });
      return (async function* () {
        for await (const state of states) yield checked(state, eventsOptions.displayPayloadHash);
      })();
    },

    async wait(request, waitOptions = {}) {
      const expected = waitOptions.displayPayloadHash;
      const state =
        typeof request === "string"
          ? await client.get(request, {
              ...pick(waitOptions),
              ...(expected === undefined ? {} : { displayPayloadHash: expected }),
            })
          : request;
      const outcome = await waitForOutcome(transport, state, { graceMs }, waitOptions);
      checked(outcome.approval, expected);
      return outcome;
    },
  };
  return Object.freeze(client);
}

/** How many sealed request bodies a client keeps for retries with the same Idempotency-Key. */
const SEALED_BODIES_KEPT = 100;

function pick(options: WaitOptions): { signal?: AbortSignal } {
  return options.signal ? { signal: options.signal } : {};
}

function isCryptoKey(value: unknown): value is CryptoKey {
  return typeof CryptoKey !== "undefined" && value instanceof CryptoKey;
}

function invalidOption(message: string, cause?: unknown): CountersignError {
  return new CountersignError("validation_failed", { message: `createAgentClient: ${message}.`, cause });
}

function parseIdentity(body: unknown): AgentIdentity {
  const view = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  if (typeof view.agent_id !== "string" || typeof view.name !== "string" || !Array.isArray(view.allowed_actions)) {
    throw new CountersignError("internal_error", { message: "The server's answer is not an agent.", cause: body });
  }
  return Object.freeze({
    agentId: view.agent_id,
    name: view.name,
    authMode: view.auth_mode === "bearer_only" ? "bearer_only" : "signed",
    verified: view.verified === true,
    allowedActions: Object.freeze(view.allowed_actions.filter((a): a is string => typeof a === "string")),
    defaultTtlSeconds: typeof view.default_ttl_seconds === "number" ? view.default_ttl_seconds : null,
    credentialsVersion: typeof view.credentials_version === "number" ? view.credentials_version : 0,
    keyId: typeof view.key_id === "string" ? view.key_id : null,
    e2e: view.e2e === undefined || view.e2e === null ? null : parseE2ePin(view.e2e),
  });
}
