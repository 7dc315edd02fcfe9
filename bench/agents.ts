/**
 * Signed agent requests per second through the whole pipeline (issue 5, DESIGN §4.12), on
 * PostgreSQL, against a bare Fastify route that only verifies one Ed25519 signature, measured in
 * the same run (target: the pipeline at ≥ 70 % of the bare route).
 *
 * The pipeline request is `GET /v1/agent/whoami`, a no-op: host → content digest → signature
 * (cached key and agent row) → time window → nonce (an INSERT, batched, which also reads the
 * agent change counter) → agent row made current (kept only if the counter vouches for it) →
 * agent state → IP allowlist, then the handler. The bare route verifies one Ed25519 signature
 * with the callback (thread-pool) form of `crypto.verify` and answers `{}`. Both servers listen
 * on 127.0.0.1 in this process; a keep-alive load generator runs in a worker thread and sends
 * pre-signed request bytes to both (every pipeline request has its own nonce, signed before the
 * clock starts, so the generator spends no CPU on signing; the bare route may be sent the same
 * bytes again). Everything — servers, load generator, PostgreSQL — shares the machine's cores.
 *
 * Run: `node bench/agents.ts` (DATABASE_URL names the server; without it, the local one over its
 * Unix socket, or 127.0.0.1:5432 — bench/lib/bench-database.ts; the user needs CREATEDB). It creates its own database
 * and drops it at the end. Not a test: it prints figures and exits 0 unless it fails.
 */
import { randomBytes } from "node:crypto";
import { cpus } from "node:os";
import { exportEd25519PublicKey, generateEd25519KeyPair, signRequest, toBase64Url } from "@countersign/protocol";
import { agentKeyId } from "../packages/server/src/agents/agent-key-id.ts";
import { createAgentsService } from "../packages/server/src/agents/agents-service.ts";
import type { InFlightApprovals } from "../packages/server/src/agents/in-flight-approvals.ts";
import { createAppServices } from "../packages/server/src/app-services.ts";
import { systemClock } from "../packages/server/src/clock.ts";
import { buildApp } from "../packages/server/src/http/build-app.ts";
import { freePort } from "../packages/server/test-support/free-port.ts";
import { startBareVerifyServer } from "./lib/bare-verify-server.ts";
import { describeBenchServer, formatCount as number } from "./lib/bench-database.ts";
import { createBenchServerSetup } from "./lib/bench-server.ts";
import type { LoadResult } from "./lib/keep-alive-load.ts";
import { type MeasuredLoad, measuredLoad } from "./lib/measured-load.ts";

type CpuPerRequest = MeasuredLoad["cpu"];

// The agent-only bench creates no approval requests, so there is never anything to cancel.
const noApprovals: InFlightApprovals = { cancelForAgent: async () => 0 };
const CONNECTIONS = 32;
const WARMUP_MS = 2_000;
const DURATION_MS = 6_000;
const ROUNDS = 2;
// Enough single-use requests for the pipeline at well past its expected rate, for every round.
const PRESIGNED = 260_000;

/** The raw bytes of one keep-alive GET. */
function rawRequest(path: string, headers: Record<string, string>): string {
  const lines = [`GET ${path} HTTP/1.1`, ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
  return `${lines.join("\r\n")}\r\n\r\n`;
}

const setup = await createBenchServerSetup("agents");
const { db, config, port, closers } = setup;

try {
  // An enrolled signed agent with an allowlist, set up through the agents domain itself.
  const userId = `usr_${toBase64Url(randomBytes(16))}`;
  await db.query(
    "INSERT INTO users (id, email, email_index, created_at, updated_at) VALUES ($1, 'v1.bench', $2, now(), now())",
    [userId, randomBytes(32).toString("hex")],
  );
  // The same services the server builds: agent events go to the real audit log.
  const { auditSink } = createAppServices({ config, db, clock: systemClock });
  const agents = createAgentsService({
    config,
    db,
    clock: systemClock,
    auditSink,
    inFlightApprovals: noApprovals,
  });
  const person = { userId, ip: "127.0.0.1", requestId: "bench" };
  const created = await agents.create(
    person,
    agents.parseCreateBody({ name: "Bench bot", allowed_actions: ["bench.*"], ip_allowlist: ["127.0.0.0/8", "::1"] }),
  );
  if (created.credential.kind !== "enrollment_code") throw new Error("expected an enrolment code");
  const keys = await generateEd25519KeyPair();
  const rawPublicKey = await exportEd25519PublicKey(keys.publicKey);
  const keyId = agentKeyId(rawPublicKey);
  await agents.enroll({
    code: created.credential.code,
    publicKey: rawPublicKey,
    keyId,
    ip: "127.0.0.1",
    requestId: "bench",
  });

  const app = await buildApp({ config, db, logLevel: "silent" });
  await app.listen({ host: "127.0.0.1", port });
  closers.push(() => app.close());

  // The bare route: one Ed25519 verification off the main thread, nothing else.
  const barePort = await freePort();
  const bare = await startBareVerifyServer(barePort, "/v1/agent/whoami");
  closers.push(() => bare.app.close());

  process.stdout.write(`pre-signing ${number(PRESIGNED)} requests with unique nonces… `);
  const signStarted = performance.now();
  const created0 = Math.floor(Date.now() / 1000);
  const requests: string[] = new Array(PRESIGNED);
  const BATCH = 1_000;
  for (let i = 0; i < PRESIGNED; i += BATCH) {
    await Promise.all(
      Array.from({ length: Math.min(BATCH, PRESIGNED - i) }, async (_, j) => {
        const parts = { method: "GET", authority: config.apiHost, path: "/v1/agent/whoami", query: "", headers: {} };
        const added = await signRequest(parts, { keyId, privateKey: keys.privateKey }, { created: created0 });
        requests[i + j] = rawRequest(parts.path, {
          host: config.apiHost,
          ...added,
          // Ignored by the pipeline (not a covered component); verified by the bare route.
          ...bare.header,
        });
      }),
    );
  }
  console.log(`${((performance.now() - signStarted) / 1000).toFixed(1)} s`);

  const runs: { bare: LoadResult[]; pipeline: LoadResult[] } = { bare: [], pipeline: [] };
  const cpu = { bare: [] as CpuPerRequest[], pipeline: [] as CpuPerRequest[] };
  let offset = 0;
  for (let round = 0; round < ROUNDS; round++) {
    // The bare route keeps no nonces, so its requests may be sent again: without that it ran
    // out of requests before its time was up and was under-measured.
    const { result: bare, cpu: bareCpu } = await measuredLoad({
      port: barePort,
      requests,
      connections: CONNECTIONS,
      warmupMs: WARMUP_MS,
      durationMs: DURATION_MS,
      cycle: true,
    });
    cpu.bare.push(bareCpu);
    runs.bare.push(bare);
    const { result: pipeline, cpu: pipelineCpu } = await measuredLoad({
      port,
      requests: requests.slice(offset),
      connections: CONNECTIONS,
      warmupMs: WARMUP_MS,
      durationMs: DURATION_MS,
    });
    cpu.pipeline.push(pipelineCpu);
    offset += Math.ceil(pipeline.completed * (1 + WARMUP_MS / DURATION_MS)) + 5 * CONNECTIONS + 2_000;
    runs.pipeline.push(pipeline);
  }

  const mean = (results: LoadResult[]) => results.reduce((sum, r) => sum + r.requestsPerSecond, 0) / results.length;
  const bareRate = mean(runs.bare);
  const pipelineRate = mean(runs.pipeline);
  const ratio = pipelineRate / bareRate;
  const statusLine = (results: LoadResult[]) =>
    results
      .map(
        (r) =>
          `${Object.entries(r.statuses)
            .map(([s, n]) => `${s}×${number(n)}`)
            .join(" ")}${r.exhausted ? " (ran out of requests)" : ""}`,
      )
      .join(" | ");

  console.log(`\nnode ${process.version}, ${cpus().length} cores, ${describeBenchServer()}`);
  console.log(
    `${CONNECTIONS} keep-alive connections, ${ROUNDS} rounds of ${DURATION_MS / 1000} s after ${WARMUP_MS / 1000} s warm-up\n`,
  );
  console.log(
    `bare Fastify route, one Ed25519 verify   ${number(bareRate).padStart(8)} requests/s   [${statusLine(runs.bare)}]`,
  );
  console.log(
    `full agent pipeline (GET whoami)         ${number(pipelineRate).padStart(8)} requests/s   [${statusLine(runs.pipeline)}]`,
  );
  console.log(
    `ratio                                     ${(ratio * 100).toFixed(1).padStart(7)} %   ${ratio >= 0.7 ? "✓ meets the 70 % target" : "✗ below the 70 % target"}`,
  );
  const cpuLine = (samples: CpuPerRequest[]) => {
    const mean = (pick: (c: CpuPerRequest) => number | null) => {
      const values = samples.map(pick).filter((v): v is number => v !== null);
      return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
    };
    const pg = mean((c) => c.postgres);
    const idle = mean((c) => c.machineIdle);
    return [
      `this process ${mean((c) => c.process)?.toFixed(0)} µs (main thread ${mean((c) => c.mainThread)?.toFixed(0)} µs)`,
      `+ PostgreSQL ${pg === null ? "n/a" : pg.toFixed(0)} µs;`,
      `machine ${idle === null ? "n/a" : (idle * 100).toFixed(0)} % idle`,
    ].join(" ");
  };
  console.log("\nCPU per request (this process includes the load generator's worker thread):");
  console.log(`  bare route      ${cpuLine(cpu.bare)}`);
  console.log(`  full pipeline   ${cpuLine(cpu.pipeline)}`);
} finally {
  await setup.dispose();
}
