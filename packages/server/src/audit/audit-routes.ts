import { CountersignError, toBase64 } from "@countersign/protocol";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import type { Config } from "../config/config.ts";
import type { Database } from "../db/database.ts";
import { auditLogVerifierKey } from "./audit-log-signer.ts";
import { proveConsistency, proveInclusion } from "./audit-proofs.ts";
import { latestCheckpoint } from "./checkpoint-store.ts";

/** What {@link registerAuditRoutes} needs. */
export interface AuditRoutesDeps {
  readonly db: Database;
  readonly config: Pick<Config, "publicUrl" | "secrets">;
}

// Query strings arrive as text (the app does not coerce types): decimal digits, range-checked in
// the handler so that an index past the tree gets the audit error code, not a schema error.
const Decimal = Type.String({ pattern: "^[0-9]{1,16}$", description: "A non-negative decimal integer." });
const Hash = Type.String({ description: "A 32-byte SHA-256 hash, base64 (RFC 4648 §4, padded)." });
const text = (description: string) => ({ description, content: { "text/plain": { schema: Type.String() } } });
const ErrorRef = { $ref: "ErrorBody#" };

const InclusionProofSchema = Type.Object(
  {
    index: Type.Integer({ description: "The entry's sequence number, which is its leaf index." }),
    tree_size: Type.Integer({ description: "The size of the tree the proof is for." }),
    entry_hash: Type.Union([Hash, Type.Null()], {
      description:
        "The entry's chain hash (the leaf's data; leaf hash = SHA-256(0x00 ‖ entry_hash)); null once purged.",
    }),
    proof: Type.Array(Hash, { description: "RFC 9162 §2.1.3 audit path, from the leaf's sibling upwards." }),
  },
  { additionalProperties: false },
);

const ConsistencyProofSchema = Type.Object(
  {
    from: Type.Integer(),
    to: Type.Integer(),
    proof: Type.Array(Hash, { description: "RFC 9162 §2.1.4 consistency proof." }),
  },
  { additionalProperties: false },
);

/**
 * The audit log's public, read-only API (DESIGN §4.8): the latest signed checkpoint, the log's
 * verifier key, and inclusion and consistency proofs. Everything served is hashes and signatures,
 * never entry contents, so these answer on both hosts without a session; an auditor pins the key,
 * saves checkpoints, and later demands proofs against them.
 */
export function registerAuditRoutes(app: FastifyInstance, deps: AuditRoutesDeps): void {
  const verifierKey = auditLogVerifierKey(deps.config);

  app.get(
    "/v1/audit/checkpoint",
    {
      config: { surface: "any" },
      schema: {
        tags: ["audit"],
        summary: "The latest signed checkpoint (C2SP tlog-checkpoint in a C2SP signed note)",
        response: {
          200: text("The signed note, exactly as signed; save it to hold the log to it later."),
          404: ErrorRef,
        },
      },
    },
    async (_request, reply) => {
      const latest = await latestCheckpoint(deps.db);
      if (latest === null) throw new CountersignError("not_found", { message: "No checkpoint has been signed yet." });
      return reply.type("text/plain; charset=utf-8").header("cache-control", "no-cache").send(latest.note);
    },
  );

  app.get(
    "/v1/audit/log-key",
    {
      config: { surface: "any" },
      schema: {
        tags: ["audit"],
        summary: "The verifier key of the log's checkpoints (C2SP signed-note verifier key: name+id+key)",
        response: { 200: text("`<origin>+<key id>+<base64 key>`, followed by a newline.") },
      },
    },
    async (_request, reply) => reply.type("text/plain; charset=utf-8").send(`${verifierKey}\n`),
  );

  app.get(
    "/v1/audit/proofs/inclusion",
    {
      config: { surface: "any" },
      schema: {
        tags: ["audit"],
        summary: "Inclusion proof of one entry in the tree of a given size (RFC 9162 §2.1.3)",
        querystring: Type.Object(
          {
            index: Decimal,
            size: Type.Optional({ ...Decimal, description: "Tree size; default: the latest checkpoint's." }),
          },
          { additionalProperties: false },
        ),
        response: { 200: InclusionProofSchema, 400: ErrorRef },
      },
    },
    async (request) => {
      const query = request.query as { index: string; size?: string };
      const proof = await proveInclusion(deps.db, toIndex(query.index), optionalIndex(query.size));
      return {
        index: proof.index,
        tree_size: proof.treeSize,
        entry_hash: proof.entryHash === null ? null : toBase64(proof.entryHash),
        proof: proof.proof.map(toBase64),
      };
    },
  );

  app.get(
    "/v1/audit/proofs/consistency",
    {
      config: { surface: "any" },
      schema: {
        tags: ["audit"],
        summary: "Consistency proof between two tree sizes (RFC 9162 §2.1.4)",
        querystring: Type.Object(
          {
            from: Decimal,
            to: Type.Optional({ ...Decimal, description: "Newer tree size; default: the latest checkpoint's." }),
          },
          { additionalProperties: false },
        ),
        response: { 200: ConsistencyProofSchema, 400: ErrorRef },
      },
    },
    async (request) => {
      const query = request.query as { from: string; to?: string };
      const proof = await proveConsistency(deps.db, toIndex(query.from), optionalIndex(query.to));
      return { from: proof.from, to: proof.to, proof: proof.proof.map(toBase64) };
    },
  );
}

function toIndex(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    throw new CountersignError("audit_index_out_of_range", { details: { reason: "above 2^53 - 1" } });
  }
  return value;
}

function optionalIndex(text: string | undefined): number | undefined {
  return text === undefined ? undefined : toIndex(text);
}
