import { existsSync } from "node:fs";
import pg from "pg";

// Debian's and most distributions' socket directory for the local server.
const LOCAL_SOCKET_DIR = "/var/run/postgresql";
const LOCAL_TCP_URL = "postgres://postgres@127.0.0.1:5432/test";
const LOCAL_SOCKET_URL = `postgres://postgres@localhost/test?host=${LOCAL_SOCKET_DIR}`;

/**
 * The PostgreSQL server benchmarks use: DATABASE_URL when set, as given. Otherwise the local
 * development server, over its Unix socket when that answers and over TCP on 127.0.0.1 when not.
 * The socket is how a same-host deployment should connect (docs/deployment.md, "PostgreSQL on the
 * same host"): measured with bench/approvals.ts, it cut the server's CPU per creation by about a
 * sixth against loopback TCP, so a benchmark on loopback TCP would under-state what such a
 * deployment does. Every benchmark prints which it used ({@link describeBenchServer}).
 */
export const BENCH_SERVER_URL = process.env.DATABASE_URL || (await localServerUrl());

async function localServerUrl(): Promise<string> {
  if (!existsSync(`${LOCAL_SOCKET_DIR}/.s.PGSQL.5432`)) return LOCAL_TCP_URL;
  const client = new pg.Client({ connectionString: LOCAL_SOCKET_URL });
  try {
    await client.connect();
    return LOCAL_SOCKET_URL;
  } catch {
    // Peer authentication refuses this OS user as `postgres` on many installs; TCP may not.
    return LOCAL_TCP_URL;
  } finally {
    await client.end().catch(() => {});
  }
}

/** How the benchmark reaches PostgreSQL, for the header it prints. */
export function describeBenchServer(url: string = BENCH_SERVER_URL): string {
  const parsed = new URL(url);
  const socketDir = parsed.searchParams.get("host");
  return socketDir?.startsWith("/") === true
    ? `PostgreSQL over the Unix socket in ${socketDir}`
    : `PostgreSQL at ${parsed.host} (TCP)`;
}

/** The same server URL naming another database. */
export function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

/** Runs `fn` on a connection to the server's `postgres` database (CREATE/DROP DATABASE). */
export async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: withDatabase(BENCH_SERVER_URL, "postgres") });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A rounded figure with thousands separators, as benchmarks print them. */
export const formatCount = (n: number): string => Math.round(n).toLocaleString("en-US");
