import { CountersignError, type Ed25519PrivateJwk, fromBase64Url } from "@countersign/protocol";
import { agentKeyId } from "../client/agent-key-id.ts";
import { type E2ePin, parseE2ePin } from "../e2e/e2e-pin.ts";

/**
 * What an agent key file holds: the Ed25519 private key as a JWK (RFC 8037 §2), its key id, and
 * after enrolment the agent id and the API origin to call, and for an end-to-end agent the account
 * key set it pinned at enrolment. The format of `docs/agent-integration.md`'s 30-line agent, plus
 * `server` and `e2e`. It is secret: written with mode 0600, never printed.
 *
 * @example
 * ```ts
 * // agent-key.json, mode 0600:
 * // {"kty":"OKP","crv":"Ed25519","x":"…","d":"…","kid":"…","agent_id":"agt_…","server":"https://api.countersign.example"}
 * const key: AgentKeyFile = await readKeyFile("agent-key.json");
 * ```
 */
export interface AgentKeyFile extends Ed25519PrivateJwk {
  /** The key id: the key's RFC 7638 thumbprint. */
  readonly kid: string;
  /** `agt_…`, once enrolled. */
  readonly agent_id?: string;
  /** The API origin the enrolment answered with (`api_base_url`). */
  readonly server?: string;
  /**
   * The account key set context is encrypted to, pinned at enrolment (DESIGN §4.11); null when
   * enrolment said the agent sends plaintext context. Absent in files written before.
   */
  readonly e2e?: E2ePin | null;
}

/**
 * Checks the contents of a key file and returns them typed. The key id must be the thumbprint of
 * the public key, so a file edited by hand cannot sign under another key's id.
 *
 * @throws CountersignError `validation_failed` naming the problem, never the key.
 *
 * @example
 * ```ts
 * const key = parseAgentKeyFile(JSON.parse(text));
 * ```
 */
export function parseAgentKeyFile(value: unknown): AgentKeyFile {
  const fields = typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
  const problem = (message: string): CountersignError =>
    new CountersignError("validation_failed", { message: `The agent key file is not valid: ${message}.` });
  if (fields.kty !== "OKP" || fields.crv !== "Ed25519")
    throw problem("it must hold an Ed25519 key (kty OKP, crv Ed25519)");
  if (typeof fields.x !== "string" || fromBase64Url(fields.x)?.length !== 32)
    throw problem("x must be a 32-byte public key");
  if (typeof fields.d !== "string" || fromBase64Url(fields.d)?.length !== 32)
    throw problem("d must be a 32-byte private key");
  const kid = agentKeyId(fields.x);
  if (fields.kid !== undefined && fields.kid !== kid) throw problem("kid is not the thumbprint of the key");
  if (
    fields.agent_id !== undefined &&
    (typeof fields.agent_id !== "string" || !/^agt_[A-Za-z0-9_-]{22}$/.test(fields.agent_id))
  ) {
    throw problem("agent_id must be an agent id");
  }
  if (fields.server !== undefined && (typeof fields.server !== "string" || !URL.canParse(fields.server))) {
    throw problem("server must be a URL");
  }
  let e2e: E2ePin | null | undefined;
  if (fields.e2e === null) e2e = null;
  else if (fields.e2e !== undefined) {
    try {
      e2e = parseE2ePin(fields.e2e);
    } catch {
      throw problem("e2e must be the pin enrolment wrote (account_key_id, public_key, fingerprint)");
    }
  }
  return {
    kty: "OKP",
    crv: "Ed25519",
    x: fields.x,
    d: fields.d,
    kid,
    ...(fields.agent_id === undefined ? {} : { agent_id: fields.agent_id as string }),
    ...(fields.server === undefined ? {} : { server: fields.server as string }),
    ...(e2e === undefined ? {} : { e2e }),
  };
}
