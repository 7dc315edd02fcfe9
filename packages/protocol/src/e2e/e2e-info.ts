import { sha256 } from "../crypto/sha2.ts";
import { concatBytes, utf8 } from "../encoding/bytes.ts";
import { canonicalize } from "../jcs/canonicalize.ts";

/** The request fields an end-to-end context is bound to, as the agent sends them. */
export interface E2eBinding {
  agent_id: string;
  action_type: string;
  title: string;
  body?: string | undefined;
  binding_message?: string | null | undefined;
}

const INFO_LABEL = utf8("countersign/e2e-context/v1");

/**
 * The HPKE `info` of an end-to-end context (RFC 9180 §5.1): "countersign/e2e-context/v1" ‖
 * SHA-256(UTF-8 JCS(binding)). Because `info` enters the key schedule, a ciphertext moved to
 * another request (other agent, action, title, body or binding message) fails to open.
 *
 * Only the five binding fields are taken, so extra properties on the argument change nothing.
 * An empty `body` and a `null` or `undefined` optional field are all left out of the JCS object:
 * the agent seals before the server fills its defaults, while the app opens from the display
 * payload, where an absent body reads `""` and an absent binding message `null` — normalizing
 * here means the two sides cannot build different bindings for the same request.
 */
export function e2eInfo(binding: E2eBinding): Uint8Array {
  const fields: Record<string, string> = {
    agent_id: binding.agent_id,
    action_type: binding.action_type,
    title: binding.title,
  };
  if (binding.body !== undefined && binding.body !== "") fields.body = binding.body;
  if (binding.binding_message !== undefined && binding.binding_message !== null) {
    fields.binding_message = binding.binding_message;
  }
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value !== "string") throw new TypeError(`binding.${name} must be a string`);
  }
  return concatBytes(INFO_LABEL, sha256(utf8(canonicalize(fields))));
}
