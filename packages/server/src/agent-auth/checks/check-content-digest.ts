import { CountersignError, verifyContentDigest } from "@countersign/protocol";
import type { AgentRequestCheck } from "../agent-request.ts";

const EMPTY = new Uint8Array(0);

/**
 * A request with a body must carry `Content-Digest` (RFC 9530), recomputed here from the raw
 * bytes received (DESIGN §4.1). The signature then covers the digest, and so the body.
 */
export const checkContentDigest: AgentRequestCheck = async (request) => {
  const header = request.parts.headers["content-digest"];
  const body = request.body ?? EMPTY;
  if (header === undefined) {
    if (body.length > 0)
      throw new CountersignError("digest_mismatch", { message: "A Content-Digest header is required." });
    return;
  }
  if (!(await verifyContentDigest(header, body))) throw new CountersignError("digest_mismatch");
};
