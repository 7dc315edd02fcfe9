/**
 * The PostgreSQL server tests also run against, from `DATABASE_URL` (for example
 * `postgres://postgres@127.0.0.1:5432/test`); unset means PGlite only. The only place test code
 * reads the environment. The harness creates and drops its own databases on that server, so the
 * URL's user needs CREATEDB and access to the `postgres` maintenance database.
 */
export const TEST_DATABASE_URL: string | undefined = process.env.DATABASE_URL || undefined;
