import { sweepExpiredIdempotencyKeys } from "../agent-auth/idempotency-store.ts";
import type { Queryable } from "../db/database.ts";
import { sweepExpiredEnrollmentCodes } from "./agent-store.ts";

/**
 * Deletes expired Idempotency-Key records and enrolment codes; run periodically by the server
 * beside the nonce sweep. Expired rows are already ignored, so a late sweep costs only space.
 */
export async function sweepAgentRecords(db: Queryable, nowMs: number): Promise<void> {
  await sweepExpiredIdempotencyKeys(db, nowMs);
  await sweepExpiredEnrollmentCodes(db, nowMs);
}
