/**
 * `npm run bench -- approvals`: approval throughput and latency against PostgreSQL (issue 6).
 *
 * 1. Signed approval creations per second through the real server (signature pipeline,
 *    Idempotency-Key, suppression and cool-down checks, sealing, insert, throttles, audit
 *    append), with p50/p99 response times, as a ratio to a bare Fastify route that verifies one
 *    Ed25519 signature, measured in the same run. Target ≥ 2,500/s, p99 ≤ 50 ms.
 * 2. Decisions per second, each with a WebAuthn assertion verified (ES256 software passkeys),
 *    the receipt signed and the audit event appended. Target ≥ 1,000/s.
 * 3. Latency from a creation request to its event on the person's SSE stream at 500 requests/s,
 *    after a warm-up at that rate as long as the other phases' (its requests are not counted).
 *    Target p99 ≤ 20 ms.
 *
 * The load generators run in worker threads on the same 2-core machine as the server, with 50
 * connections for 1 and 2. The audit checkpointer runs beside the server, as under `countersign
 * serve`. Nothing here is a test: it prints figures.
 */
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { cpus } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import {
  decisionChallenge,
  exportEd25519PublicKey,
  generateEd25519KeyPair,
  signRequest,
  toBase64Url,
  utf8,
} from "@countersign/protocol";
import { createAccountTestClient, type SignedUp } from "../packages/server/src/accounts/testing/account-test-client.ts";
import type { AuthenticatedAgent } from "../packages/server/src/agent-auth/agent-request.ts";
import { agentKeyId } from "../packages/server/src/agents/agent-key-id.ts";
import { createAppServices } from "../packages/server/src/app-services.ts";
import { startAuditCheckpointer } from "../packages/server/src/audit/audit-checkpointer.ts";
import { type GroupCommitTotals, readGroupCommitTotals } from "../packages/server/src/audit/group-commit-metrics.ts";
import { systemClock } from "../packages/server/src/clock.ts";
import { buildApp } from "../packages/server/src/http/build-app.ts";
import { createMemoryMailer } from "../packages/server/src/mail/memory-mailer.ts";
import { freePort } from "../packages/server/test-support/free-port.ts";
import { startBareVerifyServer } from "./lib/bare-verify-server.ts";
import { describeBenchServer, formatCount as number } from "./lib/bench-database.ts";
import { createBenchServerSetup } from "./lib/bench-server.ts";
import { type MeasuredLoad, measuredLoad } from "./lib/measured-load.ts";
import type { SseLatencyOptions, SseLatencyResult } from "./lib/sse-latency-load.ts";

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const PEOPLE = 25;
const WARMUP_MS = 2_000;
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 6_000);
const CREATIONS = 60_000;
const DECISIONS = 12_000;
const SSE_RATE = Number(process.env.BENCH_SSE_RATE ?? 500);
// `BENCH_PHASES=creations` (or decisions, sse; comma-separated) runs only some phases, for profiling.
const PHASES = new Set((process.env.BENCH_PHASES ?? "creations,decisions,sse").split(","));

function inWorker<O, R>(file: string, options: O): Promise<R> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(file, import.meta.url), { workerData: options });
    worker.once("message", (result: R) => resolve(result));
    worker.once("error", reject);
  });
}

/** The raw bytes of one HTTP/1.1 request. */
function raw(method: string, path: string, headers: Record<string, string>, body?: Uint8Array): string {
  const all = body === undefined ? headers : { ...headers, "content-length": String(body.length) };
  const head = [`${method} ${path} HTTP/1.1`, ...Object.entries(all).map(([k, v]) => `${k}: ${v}`)].join("\r\n");
  return `${head}\r\n\r\n${body === undefined ? "" : Buffer.from(body).toString("latin1")}`;
}

const setup = await createBenchServerSetup("approvals", {
  COUNTERSIGN_AUTH_MIN_DURATION_MS: "0",
  // The benchmark measures the work, not the anti-fatigue limits that would refuse it.
  COUNTERSIGN_APPROVAL_THROTTLE_AGENT_PER_MINUTE: "1000000",
  COUNTERSIGN_APPROVAL_THROTTLE_USER_PER_MINUTE: "1000000",
});
const { db, config, port, closers } = setup;

try {
  const mailer = createMemoryMailer();
  const services = createAppServices({ config, db, clock: systemClock }, { mailer });
  const app = await buildApp({ config, db, logLevel: "silent", services });
  await app.listen({ host: "127.0.0.1", port });
  closers.push(() => app.close());
  // The background work `countersign serve` runs beside the requests: every 1,000 audited
  // writes, a checkpoint verifies them and signs (DESIGN §4.8), on the same event loop.
  const checkpointer = await startAuditCheckpointer({ db, config, clock: systemClock });
  closers.push(() => checkpointer.stop());
  const accounts = createAccountTestClient(app, { mailer, webauthn: config.webauthn, host: config.appHost });

  // People with ES256 software passkeys that keep the signature counter at 0, like synced
  // passkeys, so pre-made assertions may arrive in any order; each with one enrolled agent.
  process.stdout.write(`setting up ${PEOPLE} people and agents… `);
  const people: { person: SignedUp; agent: AuthenticatedAgent; keyId: string; keys: CryptoKeyPair }[] = [];
  for (let i = 0; i < PEOPLE; i++) {
    const person = await accounts.signUp(`bench${i}@example.com`, {
      authenticator: accounts.newAuthenticator({ counter: "zero" }),
      // Sign-up attempts are limited per address; the bench people come from distinct ones.
      ip: `10.0.${i}.1`,
    });
    await accounts.stepUp(person.cookie, person.authenticator);
    const created = await accounts.call(
      "POST",
      "/v1/agents",
      { name: `Bench bot ${i}`, allowed_actions: ["bench.*"] },
      { cookie: person.cookie },
    );
    const code = (JSON.parse(created.body) as { credential: { code: string } }).credential.code;
    const keys = await generateEd25519KeyPair();
    const rawKey = await exportEd25519PublicKey(keys.publicKey);
    const keyId = agentKeyId(rawKey);
    await services.agents.enroll({ code, publicKey: rawKey, keyId, ip: "127.0.0.1", requestId: "bench" });
    const resolved = await services.agents.resolveKey(keyId);
    if (resolved?.agent == null) throw new Error("the bench agent did not enrol");
    people.push({ person, agent: resolved.agent, keyId, keys });
  }
  console.log("done");

  const barePort = await freePort();
  const bare = await startBareVerifyServer(barePort, "/v1/approvals");
  closers.push(() => bare.app.close());

  // ── 1. Creations ────────────────────────────────────────────────────────────────────────
  process.stdout.write(`pre-signing ${number(CREATIONS)} creations… `);
  const created0 = Math.floor(Date.now() / 1000);
  const signCreation = async (i: number, owner: (typeof people)[number]) => {
    // A distinct action type per request: in-flight suppression would otherwise answer every
    // request after the first with the open one, which is cheaper than what we mean to measure.
    const body = utf8(
      JSON.stringify({
        action_type: `bench.c${i}`,
        title: `Deploy build ${i}`,
        body: "Rolls the api service to the new build.",
        context: { build: i, region: "eu-west-1" },
      }),
    );
    const headers = { "content-type": "application/json", "idempotency-key": `bench-${i}` };
    const parts = { method: "POST", authority: config.apiHost, path: "/v1/approvals", query: "", headers, body };
    const added = await signRequest(
      parts,
      { keyId: owner.keyId, privateKey: owner.keys.privateKey },
      { created: created0 },
    );
    return raw("POST", "/v1/approvals", { host: config.apiHost, ...headers, ...added }, body);
  };
  const creations: string[] = new Array(CREATIONS);
  for (let i = 0; i < CREATIONS; i += 1_000) {
    await Promise.all(
      Array.from({ length: Math.min(1_000, CREATIONS - i) }, async (_, j) => {
        creations[i + j] = await signCreation(i + j, people[(i + j) % PEOPLE] as (typeof people)[number]);
      }),
    );
  }
  console.log("done");
  const statuses = (r: { statuses: Record<string, number> }) =>
    Object.entries(r.statuses)
      .map(([s, n]) => `${s}×${number(n)}`)
      .join(" ");
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const verdict = (ok: boolean, text: string) => `${ok ? "✓" : "✗"} ${text}`;
  // The group commit's totals at the edges of the last load's measured window.
  const grouped: { start?: GroupCommitTotals; end?: GroupCommitTotals } = {};
  const load = (requests: readonly string[], target = port) =>
    measuredLoad(
      { port: target, requests, connections: CONNECTIONS, warmupMs: WARMUP_MS, durationMs: DURATION_MS },
      { onWindow: (edge) => (grouped[edge] = readGroupCommitTotals(services.metrics)) },
    );
  /**
   * What the group commit did in the window: its transactions run one at a time, so their time
   * per second near 100 % says they, not the cores, set the rate; then fewer round trips and less
   * work per batch, or more requests per batch, are what would raise it.
   */
  const groupCommitLine = (windowSeconds = DURATION_MS / 1000) => {
    const { start, end } = grouped;
    if (start === undefined || end === undefined || end.transactions === start.transactions)
      return "group commit: none";
    const transactions = end.transactions - start.transactions;
    const seconds = end.seconds - start.seconds;
    return (
      `group commit: ${number(transactions)} transactions, ${((end.units - start.units) / transactions).toFixed(1)} ` +
      `requests and ${((seconds * 1000) / transactions).toFixed(1)} ms each; one running ` +
      `${((seconds / windowSeconds) * 100).toFixed(0)} % of the time`
    );
  };
  console.log(`\nnode ${process.version}, ${cpus().length} cores, ${describeBenchServer()}`);
  console.log(
    `${CONNECTIONS} keep-alive connections, ${DURATION_MS / 1000} s after ${WARMUP_MS / 1000} s warm-up; ` +
      `audit checkpoints every ${number(config.audit.checkpointEntries)} entries, as the server signs them\n`,
  );

  const { result: floor } = await load(
    Array.from({ length: 200_000 }, () => raw("GET", "/v1/approvals", { host: "127.0.0.1", ...bare.header })),
    barePort,
  );
  console.log(
    `floor: bare route, one Ed25519 verify       ${number(floor.requestsPerSecond).padStart(7)} /s   p99 ${ms(floor.latencyMs.p99)}   [${statuses(floor)}]`,
  );
  const ratio = (rate: number) => `ratio to the floor ${((rate / floor.requestsPerSecond) * 100).toFixed(1)} %`;

  if (PHASES.has("creations")) {
    const { result: creating, cpu: creatingCpu } = await profiled("creations", () => load(creations));
    console.log(
      `signed approval creations (with audit)      ${number(creating.requestsPerSecond).padStart(7)} /s   p50 ${ms(creating.latencyMs.p50)}  p99 ${ms(creating.latencyMs.p99)}   [${statuses(creating)}]`,
    );
    console.log(
      `  ${ratio(creating.requestsPerSecond)}   ${verdict(creating.requestsPerSecond >= 2_500 && creating.latencyMs.p99 <= 50, "target ≥ 2,500/s with p99 ≤ 50 ms")}`,
    );
    console.log(`  ${cpuLine(creatingCpu, creating.requestsPerSecond)}`);
    console.log(`  ${groupCommitLine()}`);
  }

  // ── 2. Decisions ────────────────────────────────────────────────────────────────────────
  if (PHASES.has("decisions")) {
    const prepared = await prepareDecisions();
    const { result: deciding, cpu: decidingCpu } = await profiled("decisions", () => load(prepared));
    console.log(
      `decisions (WebAuthn verify, receipt, audit) ${number(deciding.requestsPerSecond).padStart(7)} /s   p50 ${ms(deciding.latencyMs.p50)}  p99 ${ms(deciding.latencyMs.p99)}   [${statuses(deciding)}]`,
    );
    console.log(
      `  ${ratio(deciding.requestsPerSecond)}   ${verdict(deciding.requestsPerSecond >= 1_000, "target ≥ 1,000/s")}${deciding.exhausted ? "  (ran out of prepared decisions)" : ""}`,
    );
    console.log(`  ${cpuLine(decidingCpu, deciding.requestsPerSecond)}`);
    console.log(`  ${groupCommitLine()}`);
  }

  // ── 3. Creation → SSE latency at 500/s ──────────────────────────────────────────────────
  if (PHASES.has("sse")) {
    const watched = people[0] as (typeof people)[number];
    const sseRequests: string[] = [];
    // Enough for the warm-up and the measured window at the rate, and a second to spare.
    const sseCount = SSE_RATE * ((WARMUP_MS + DURATION_MS) / 1000 + 1);
    for (let i = 0; i < sseCount; i++) sseRequests.push(await signCreation(CREATIONS + i, watched));
    grouped.start = readGroupCommitTotals(services.metrics);
    const streaming = await inWorker<SseLatencyOptions, SseLatencyResult>("./lib/sse-latency-load.ts", {
      port,
      streamRequest: raw("GET", "/v1/me/events", {
        host: config.appHost,
        cookie: watched.person.cookie,
        accept: "text/event-stream",
      }),
      requests: sseRequests,
      ratePerSecond: SSE_RATE,
      connections: 8,
      warmupMs: WARMUP_MS,
      durationMs: DURATION_MS,
    });
    console.log(
      `creation → person's SSE event at ${SSE_RATE}/s      p50 ${ms(streaming.latencyMs.p50)}  p99 ${ms(streaming.latencyMs.p99)}  max ${ms(streaming.latencyMs.max)}   (${number(streaming.matched)} of ${number(streaming.sent)} matched) [${statuses(streaming)}]`,
    );
    grouped.end = readGroupCommitTotals(services.metrics);
    console.log(`  ${verdict(streaming.latencyMs.p99 <= 20 && streaming.matched > 0, "target p99 ≤ 20 ms")}`);
    // Over the warm-up and the measured window together (the worker reports no edges).
    console.log(`  ${groupCommitLine((WARMUP_MS + DURATION_MS) / 1000)}`);
  }

  /**
   * CPU per request over the measured window: on 2 shared cores this, more than the main thread's
   * profile, says what a request costs. The main thread's share (its CPU per request times the
   * rate) and the machine's idle share say which bound the rate: a main thread near 100 % with
   * idle cores left is the event loop, no idle at all is the machine.
   */
  function cpuLine(cpu: MeasuredLoad["cpu"], rate: number) {
    const pg = cpu.postgres === null ? "n/a" : `${cpu.postgres.toFixed(0)} µs`;
    const busy = ((cpu.mainThread * rate) / 10_000).toFixed(0);
    const idle = cpu.machineIdle === null ? "n/a" : `${(cpu.machineIdle * 100).toFixed(0)} %`;
    return (
      `CPU per request: this process ${cpu.process.toFixed(0)} µs (load generator included; main thread ` +
      `${cpu.mainThread.toFixed(0)} µs, ${busy} % busy) + PostgreSQL ${pg}; machine ${idle} idle`
    );
  }

  /** Runs a load phase; with BENCH_PROFILE=DIR, also writes a CPU profile of the server's main thread during it. */
  async function profiled<T>(phase: string, run: () => Promise<T>): Promise<T> {
    const dir = process.env.BENCH_PROFILE;
    if (dir === undefined) return run();
    const session = new Session();
    session.connect();
    const post = (method: string) =>
      new Promise<unknown>((resolve, reject) =>
        session.post(method, (error, result) => (error ? reject(error) : resolve(result))),
      );
    await post("Profiler.enable");
    await post("Profiler.start");
    const result = await run();
    const { profile } = (await post("Profiler.stop")) as { profile: unknown };
    writeFileSync(join(dir, `approvals-${phase}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
    return result;
  }

  /** Approval requests made through the service, each with a nonce and a passkey assertion. */
  async function prepareDecisions(): Promise<string[]> {
    process.stdout.write(`preparing ${number(DECISIONS)} decisions (requests, nonces, passkey assertions)… `);
    const decisions: string[] = [];
    for (let i = 0; i < DECISIONS; i += 200) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(200, DECISIONS - i) }, async (_, j) => {
          const owner = people[(i + j) % PEOPLE] as (typeof people)[number];
          const actor = { ip: "127.0.0.1", userAgent: null, requestId: "bench" };
          const { row, number: typed } = await services.approvals.create(
            owner.agent,
            { action_type: `bench.d${i + j}`, title: `Migrate shard ${i + j}`, callbackUrl: null },
            actor,
          );
          const { nonce } = await services.approvals.deps.nonces.issue(db, {
            requestId: row.id,
            userId: owner.person.userId,
            now: new Date(),
          });
          const challenge = toBase64Url(
            await decisionChallenge({
              requestId: row.id,
              decision: "approve",
              // Plaintext requests always have a hash; only end-to-end ones wait for the decision's.
              displayPayloadHash: row.display_payload_hash ?? "",
              nonce,
            }),
          );
          const credential = owner.person.authenticator.authenticate({
            challenge,
            rpId: config.webauthn.rpId,
            allowCredentials: [],
            userVerification: "required",
          });
          const body = utf8(
            JSON.stringify({
              decision: "approve",
              number: typed,
              display_payload_hash: row.display_payload_hash,
              nonce,
              credential,
            }),
          );
          return raw(
            "POST",
            `/v1/me/approvals/${row.id}/decision`,
            {
              host: config.appHost,
              origin: config.webauthn.origin,
              cookie: owner.person.cookie,
              "content-type": "application/json",
            },
            body,
          );
        }),
      );
      decisions.push(...batch);
    }
    console.log("done");
    return decisions;
  }
} finally {
  await setup.dispose();
}
