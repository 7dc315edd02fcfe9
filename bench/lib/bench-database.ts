import pg from "pg";

/** The PostgreSQL server benchmarks use: DATABASE_URL, or the local development server. */
export const BENCH_SERVER_URL = process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test";

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
