import type { Readable, Writable } from "node:stream";

/**
 * A stream the CLI writes text to.
 *
 * @example
 * ```ts
 * const out: CliOutput = { write: (text) => process.stderr.write(text), isTTY: process.stderr.isTTY };
 * ```
 */
export interface CliOutput {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/**
 * Everything the CLI touches outside itself, passed in so that tests run it in process with
 * their own clock, environment and streams (CONVENTIONS: no module reads `process.env`).
 *
 * @example
 * ```ts
 * const io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
 * ```
 */
export interface CliIo {
  readonly stdout: CliOutput;
  /** Messages for the person at the terminal: the number, the countdown, errors. */
  readonly stderr: CliOutput;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Relative paths (key file, `@file` arguments) resolve against it. */
  readonly cwd: string;
  /** Aborted on Ctrl-C (SIGINT) or SIGTERM: an open request is canceled, a wait stops. */
  readonly signal?: AbortSignal;
  /** The current time in milliseconds, for signatures; `Date.now` by default. */
  readonly now?: () => number;
  readonly fetch?: typeof fetch;
  /** The byte streams the `mcp` and `mcp-gate` commands speak MCP over; the process's own by default. */
  readonly mcpStreams?: { readonly input: Readable; readonly output: Writable };
  /** Reads standard input to its end, for `verify-receipt -`. */
  readonly readStdin?: () => Promise<string>;
}
