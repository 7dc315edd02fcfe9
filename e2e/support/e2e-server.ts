import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import { type AppServices, createAppServices } from "../../packages/server/src/app-services.ts";
import { loadConfig } from "../../packages/server/src/config/load-config.ts";
import { buildApp } from "../../packages/server/src/http/build-app.ts";
import { createMemoryMailer, type MemoryMailer } from "../../packages/server/src/mail/memory-mailer.ts";
import { createTestDatabase, type TestDatabase } from "../../packages/server/test-support/test-database.ts";

/** The repository's root. */
export const REPO = fileURLToPath(new URL("../..", import.meta.url));

/** The real server with the built app, listening on `http://localhost:<port>`. */
export interface E2eServer {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly mailer: MemoryMailer;
  /** The server's services, on its database: for a test to do what no screen does (an erasure). */
  readonly services: AppServices;
  /** A temporary directory for key files and the like, removed by `close`. */
  readonly dir: string;
  /** The server's log lines (JSON), when started with `captureLogs`; empty otherwise. */
  readonly logs: readonly string[];
  /** The last 6-digit code mailed to `email`. */
  lastCode(email: string): string;
  /**
   * The 6-digit code of the first mail to `email` after the first `since` mails sent (take
   * `mailer.sent.length` before asking for a code), waiting up to 10 s for it: the last mail may be
   * another kind (an account notice) until the new one is out.
   */
  codeMailedAfter(email: string, since: number): Promise<string>;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "localhost", () => {
      const address = probe.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** Builds the web app as `npm start` does, so the test runs what a user gets. */
export function buildWebApp(): string {
  return execFileSync(
    process.execPath,
    ["--disable-warning=ExperimentalWarning", join(REPO, "packages/web/scripts/build.ts")],
    { cwd: REPO, encoding: "utf8" },
  ).trim();
}

/**
 * Starts the server in process (so the sign-up mail is read from a memory mailer) on an embedded
 * database in a temporary directory, with the public URL `http://localhost:<port>`: the app
 * origin, the API origin and the passkeys' relying party id `localhost`. With `captureLogs` the
 * server logs at `info` (every request, as in production) into `logs`, for tests that check what
 * reaches the log. `stepUpMaxAgeSeconds` shortens how long a passkey confirmation counts (the
 * server's `auth.stepUpMaxAgeSeconds`, 5 minutes), for tests of a session whose proof has lapsed.
 */
export async function startE2eServer(
  options: { captureLogs?: boolean; stepUpMaxAgeSeconds?: number } = {},
): Promise<E2eServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "cs-e2e-"));
  const url = `http://localhost:${port}`;
  const loaded = loadConfig(
    {
      COUNTERSIGN_ENV: "test",
      COUNTERSIGN_DATA_DIR: join(dir, "data"),
      COUNTERSIGN_PORT: String(port),
      COUNTERSIGN_PUBLIC_URL: url,
      COUNTERSIGN_AUTH_MIN_DURATION_MS: "0",
    },
    { cwd: dir },
  );
  const config =
    options.stepUpMaxAgeSeconds === undefined
      ? loaded
      : { ...loaded, auth: { ...loaded.auth, stepUpMaxAgeSeconds: options.stepUpMaxAgeSeconds } };
  const database: TestDatabase = await createTestDatabase("pglite");
  const mailer = createMemoryMailer();
  const services = createAppServices({ config, db: database.db }, { mailer });
  const logs: string[] = [];
  const app = await buildApp({
    config,
    db: database.db,
    services,
    ...(options.captureLogs
      ? { logLevel: "info", logStream: { write: (line: string) => void logs.push(line) } }
      : { logLevel: "silent" }),
  });
  await app.listen({ host: "localhost", port });
  return {
    app,
    url,
    mailer,
    services,
    dir,
    logs,
    lastCode(email) {
      const mail = mailer.sent.filter((m) => m.to === email.toLowerCase()).at(-1);
      const code = mail?.text.match(/\b(\d{6})\b/)?.[1];
      if (code === undefined) throw new Error(`no code was mailed to ${email}`);
      return code;
    },
    async codeMailedAfter(email, since) {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const mail = mailer.sent.slice(since).find((m) => m.to === email.toLowerCase() && /\b\d{6}\b/.test(m.text));
        const code = mail?.text.match(/\b(\d{6})\b/)?.[1];
        if (code !== undefined) return code;
        if (Date.now() > deadline) throw new Error(`no new code was mailed to ${email}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async close() {
      await app.close();
      await database.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
