import {
  CountersignError,
  exportEd25519PrivateJwk,
  exportEd25519PublicKey,
  generateEd25519KeyPair,
  toBase64Url,
} from "@countersign/protocol";
import { type E2ePin, parseE2ePin } from "../e2e/e2e-pin.ts";
import type { AgentKeyFile } from "../key-file/agent-key-file.ts";
import { agentKeyId } from "./agent-key-id.ts";
import { parseServerUrl } from "./parse-server-url.ts";
import { createSignedTransport } from "./signed-transport.ts";

/**
 * Options of {@link enrollAgent}.
 *
 * @example
 * ```ts
 * const options: EnrollAgentOptions = { server: "https://api.countersign.example", code: "cs_enr_…" };
 * ```
 */
export interface EnrollAgentOptions {
  /** The Countersign API origin. */
  readonly server: string | URL;
  /** The one-time enrolment code the app showed, `cs_enr_…`. */
  readonly code: string;
  /**
   * Called with the new key before it is enrolled, to store it first: if the answer is then lost,
   * the key is still there, and `whoami` tells the agent its id. Throwing stops the enrolment.
   */
  readonly beforeEnroll?: (key: AgentKeyFile) => Promise<void>;
  readonly fetch?: typeof fetch;
  /** The current time in milliseconds, for the signature's `created`. */
  readonly now?: () => number;
  readonly signal?: AbortSignal;
}

/**
 * The result of {@link enrollAgent}.
 *
 * @example
 * ```ts
 * const { agentId, key } = await enrollAgent({ server, code });
 * await writeKeyFile("agent-key.json", key);
 * ```
 */
export interface EnrolledAgent {
  readonly agentId: string;
  readonly keyId: string;
  /** The origin to send every later request to. */
  readonly apiBaseUrl: string;
  readonly credentialsVersion: number;
  /**
   * For an agent created with end-to-end context: the account key set to encrypt to, pinned now.
   * Show its `fingerprint` to the person, who compares it with the one beside the enrolment code
   * in their app. Undefined for a plaintext agent.
   */
  readonly e2e: E2ePin | undefined;
  /** The private key and what the agent needs to use it: store it, mode 0600, and never print it. */
  readonly key: AgentKeyFile;
}

/**
 * Enrols a new agent (DESIGN §4.3): generates an Ed25519 key pair here, on the agent's machine,
 * and calls `POST /v1/agents/enroll` with the one-time code and the public key, signed with the
 * new private key as proof of possession. The private key is never sent anywhere.
 *
 * The call is not retried: the code is single use, and a lost answer is recovered with `whoami`.
 *
 * An agent created with end-to-end context receives the account public key and its fingerprint,
 * checked to agree, and pinned in the returned key file (DESIGN §4.11).
 *
 * @throws CountersignError `enrollment_code_invalid`, `agent_key_in_use`, `account_key_changed`,
 *   `misdirected_request`, …
 *
 * @example
 * ```ts
 * const enrolled = await enrollAgent({ server: "https://api.countersign.example", code: "cs_enr_…" });
 * await writeKeyFile("agent-key.json", enrolled.key);
 * ```
 */
export async function enrollAgent(options: EnrollAgentOptions): Promise<EnrolledAgent> {
  const server = parseServerUrl(options.server);
  if (typeof options.code !== "string" || options.code.length === 0 || options.code.length > 200) {
    throw new CountersignError("validation_failed", { message: "The enrolment code is missing." });
  }
  const { privateKey, publicKey } = await generateEd25519KeyPair({ extractable: true });
  const x = toBase64Url(await exportEd25519PublicKey(publicKey));
  const keyId = agentKeyId(x);
  const jwk = await exportEd25519PrivateJwk(privateKey);
  await options.beforeEnroll?.({ ...jwk, kid: keyId, server: server.origin });

  const transport = createSignedTransport({
    server,
    signer: { keyId, privateKey },
    fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
    now: options.now ?? Date.now,
    requestTimeoutMs: 30_000,
    retries: 0,
  });
  const { body } = await transport.json("POST", "/v1/agents/enroll", {
    json: { code: options.code, public_key: x },
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const answer = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  if (typeof answer.agent_id !== "string" || answer.key_id !== keyId || typeof answer.api_base_url !== "string") {
    throw new CountersignError("internal_error", {
      message: "The server's enrolment answer is not valid.",
      cause: body,
    });
  }
  const apiBaseUrl = parseServerUrl(answer.api_base_url).origin;
  let e2e: E2ePin | undefined;
  if (answer.e2e !== undefined && answer.e2e !== null) {
    try {
      e2e = parseE2ePin(answer.e2e);
    } catch (cause) {
      // A fingerprint that is not the key's would have the person check one key while the agent
      // encrypts to another: never pin that.
      throw new CountersignError("internal_error", { message: "The server's end-to-end key is not valid.", cause });
    }
  }
  return {
    agentId: answer.agent_id,
    keyId,
    apiBaseUrl,
    credentialsVersion: typeof answer.credentials_version === "number" ? answer.credentials_version : 1,
    e2e,
    key: {
      ...jwk,
      kid: keyId,
      agent_id: answer.agent_id,
      server: apiBaseUrl,
      // null records that this agent sends plaintext context; absent only from an older server.
      ...(e2e !== undefined ? { e2e } : answer.e2e === null ? { e2e: null } : {}),
    },
  };
}
