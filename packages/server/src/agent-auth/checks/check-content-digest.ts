import { CountersignError, verifyContentDigest } from "@countersign/protocol";
import type { AgentRequestCheck } from "../agent-request.ts";

const EMPTY = new Uint8Array(0);

/**
 * A request with a body must carry `Content-Digest` (RFC 9530), recomputed here from the raw
 * bytes received (DESIGN §4.1). The signature then covers the digest, and so the body.
 */
export const checkContentDigest: AgentRequestCheck = (request) => {
  const header = request.parts.headers["content-digest"];
  const body = request.body ?? EMPTY;
  if (header === undefined) {
    if (body.length > 0)
      throw new CountersignError("digest_mismatch", { message: "A Content-Digest header is required." });
    // Synchronous when there is nothing to hash (a GET): no promise for the pipeline to await.
    return;
  }
  return verifyDigest(header, body);
};

async function verifyDigest(header: string, body: Uint8Array): Promise<void> {
  if (!(await verifyContentDigest(header, body))) throw new CountersignError("digest_mismatch");
}
