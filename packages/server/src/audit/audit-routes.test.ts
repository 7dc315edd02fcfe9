import assert from "node:assert/strict";
import { before, it } from "node:test";
import SwaggerParser from "@apidevtools/swagger-parser";
import {
  fromBase64,
  leafHash,
  MerkleTree,
  openNote,
  parseCheckpoint,
  parseVerifierKey,
  sha256,
  toBase64,
  verifyConsistency,
  verifyInclusion,
} from "@countersign/protocol";
import type { FastifyInstance } from "fastify";
import { createTestApp } from "../../test-support/test-app.ts";
import { describeEachDatabase } from "../../test-support/test-database.ts";
import { type AuditFixture, appendSamples, checkpointNow, createAuditFixture } from "./test-support/audit-fixtures.ts";

const HOST = "audit.test";
const SIZES = [1, 5, 16, 37];

describeEachDatabase("the audit HTTP API", (ctx) => {
  let app: FastifyInstance;
  let fixture: AuditFixture;
  const reference = new MerkleTree(sha256);
  const roots = new Map<number, Uint8Array>();

  const get = (url: string) => app.inject({ method: "GET", url, headers: { host: HOST } });

  before(async () => {
    fixture = await createAuditFixture();
    // buildApp registers the audit routes (http/route-modules.ts) with the app's services.
    app = await createTestApp(ctx.db, { config: fixture.config });
    await app.ready();
  });

  it("answers 404 before the first checkpoint and refuses proofs", async () => {
    const checkpoint = await get("/v1/audit/checkpoint");
    assert.equal(checkpoint.statusCode, 404);
    assert.equal(checkpoint.json().error.code, "not_found");
    const proof = await get("/v1/audit/proofs/inclusion?index=0");
    assert.equal(proof.statusCode, 400);
    assert.equal(proof.json().error.code, "audit_index_out_of_range");
  });

  it("serves the log's verifier key", async () => {
    const res = await get("/v1/audit/log-key");
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers["content-type"]), /^text\/plain/);
    assert.equal(res.body, `${fixture.signer.verifierKey}\n`);
    assert.equal(parseVerifierKey(res.body.trim()).name, HOST);
  });

  it("serves the latest signed checkpoint as text", async () => {
    let appended = 0;
    for (const size of SIZES) {
      await appendSamples(ctx.db, fixture.audit, size - appended, appended);
      appended = size;
      await checkpointNow(ctx.db, fixture);
      const res = await get("/v1/audit/checkpoint");
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers["content-type"]), /^text\/plain/);
      const opened = await openNote(res.body, [parseVerifierKey((await get("/v1/audit/log-key")).body.trim())]);
      assert.ok(opened.ok, "signed by the served key");
      const parsed = parseCheckpoint(opened.text);
      assert.ok(parsed.ok);
      assert.equal(parsed.checkpoint.size, size);
      roots.set(size, parsed.checkpoint.rootHash);
    }
    const { rows } = await ctx.db.query<{ hash: Uint8Array }>("SELECT hash FROM audit_log ORDER BY seq");
    for (const row of rows) reference.append(leafHash(row.hash, sha256));
  });

  it("proves every entry's inclusion in every signed tree", async () => {
    for (const size of SIZES) {
      for (let index = 0; index < size; index++) {
        const res = await get(`/v1/audit/proofs/inclusion?index=${index}&size=${size}`);
        assert.equal(res.statusCode, 200);
        const body = res.json() as { index: number; tree_size: number; entry_hash: string; proof: string[] };
        assert.equal(body.index, index);
        assert.equal(body.tree_size, size);
        const proof = body.proof.map((p) => fromBase64(p) as Uint8Array);
        assert.deepEqual(body.proof, reference.inclusionProof(index, size).map(toBase64), `${index}/${size}`);
        const leaf = leafHash(fromBase64(body.entry_hash) as Uint8Array, sha256);
        assert.ok(verifyInclusion(leaf, index, size, proof, roots.get(size) as Uint8Array), `${index}/${size}`);
      }
    }
    const latest = (await get("/v1/audit/proofs/inclusion?index=36")).json();
    assert.equal(latest.tree_size, 37, "the size defaults to the latest checkpoint");
  });

  it("proves consistency between every pair of signed trees", async () => {
    for (const from of SIZES) {
      for (const to of SIZES.filter((size) => size >= from)) {
        const res = await get(`/v1/audit/proofs/consistency?from=${from}&to=${to}`);
        assert.equal(res.statusCode, 200);
        const body = res.json() as { from: number; to: number; proof: string[] };
        assert.deepEqual([body.from, body.to], [from, to]);
        const proof = body.proof.map((p) => fromBase64(p) as Uint8Array);
        const ok = verifyConsistency(from, to, proof, roots.get(from) as Uint8Array, roots.get(to) as Uint8Array);
        assert.ok(ok, `${from} → ${to}`);
      }
    }
    assert.equal((await get("/v1/audit/proofs/consistency?from=5")).json().to, 37);
  });

  it("refuses indexes and sizes outside the signed tree with audit_index_out_of_range", async () => {
    for (const url of [
      "/v1/audit/proofs/inclusion?index=37",
      "/v1/audit/proofs/inclusion?index=5&size=5",
      "/v1/audit/proofs/inclusion?index=0&size=38",
      "/v1/audit/proofs/inclusion?index=0&size=0",
      "/v1/audit/proofs/inclusion?index=9999999999999999",
      "/v1/audit/proofs/consistency?from=0",
      "/v1/audit/proofs/consistency?from=38",
      "/v1/audit/proofs/consistency?from=16&to=5",
      "/v1/audit/proofs/consistency?from=1&to=38",
    ]) {
      const res = await get(url);
      assert.equal(res.statusCode, 400, url);
      assert.equal(res.json().error.code, "audit_index_out_of_range", url);
    }
    for (const url of [
      "/v1/audit/proofs/inclusion",
      "/v1/audit/proofs/inclusion?index=-1",
      "/v1/audit/proofs/inclusion?index=1e3",
      "/v1/audit/proofs/inclusion?index=12345678901234567",
      "/v1/audit/proofs/inclusion?index=1&extra=1",
    ]) {
      const res = await get(url);
      assert.equal(res.statusCode, 400, url);
      assert.equal(res.json().error.code, "validation_failed", url);
    }
  });

  it("describes every route in the OpenAPI document", async () => {
    const document = (await get("/openapi.json")).json();
    for (const path of [
      "/v1/audit/checkpoint",
      "/v1/audit/log-key",
      "/v1/audit/proofs/inclusion",
      "/v1/audit/proofs/consistency",
    ]) {
      assert.ok(document.paths[path]?.get, path);
    }
    assert.ok(document.paths["/v1/audit/checkpoint"].get.responses["200"].content["text/plain"]);
    await SwaggerParser.validate(structuredClone(document));
  });
});
