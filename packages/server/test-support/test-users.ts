import { createHash, randomBytes } from "node:crypto";
import type { Queryable } from "../src/db/database.ts";

/**
 * Makes sure a user row with this id exists, for tests of domains that hang off users
 * (sessions, agents) without going through sign-up. The email is a placeholder envelope and the
 * blind index random, so no two test users collide.
 */
export async function ensureTestUser(q: Queryable, userId: string): Promise<void> {
  await q.query(
    `INSERT INTO users (id, email, email_index, created_at, updated_at)
     VALUES ($1, 'v1.test.placeholder', $2, now(), now())
     ON CONFLICT (id) DO NOTHING`,
    [userId, randomBytes(32).toString("hex")],
  );
}

/** A valid, stable user id (`usr_` + 22 characters) for a readable test label. */
export function testUserId(label: string): string {
  return `usr_${createHash("sha256").update(label).digest("base64url").slice(0, 22)}`;
}
