import { runCli } from "../cli/cli.ts";
import type { CliIo } from "../cli/cli-io.ts";

/** A CLI run in process, its output captured as it is written. */
export interface CliRun {
  /** Resolves with the exit code. */
  readonly exit: Promise<number>;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in standard error, as soon as it is written. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

/** Starts `countersign-agent ARGV` in this process with `io` overrides (env, cwd, clock, signal). */
export function startCli(argv: string[], io: Partial<CliIo> & Pick<CliIo, "env" | "cwd">): CliRun {
  let out = "";
  let err = "";
  const listeners = new Set<() => void>();
  const exit = runCli(argv, {
    stdout: { write: (text: string) => (out += text) },
    stderr: {
      write: (text: string) => {
        err += text;
        for (const listener of listeners) listener();
      },
    },
    ...io,
  });
  return {
    exit,
    stdout: () => out,
    stderr: () => err,
    waitForStderr(pattern, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const match = err.match(pattern);
          if (match === null) return false;
          listeners.delete(listener);
          clearTimeout(timer);
          resolve(match);
          return true;
        };
        const listener = (): void => void check();
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(new Error(`${pattern} never appeared on stderr:\n${err}`));
        }, timeoutMs);
        listeners.add(listener);
        check();
        void exit.then(() => {
          if (!check()) {
            listeners.delete(listener);
            clearTimeout(timer);
            reject(new Error(`exited before ${pattern} appeared on stderr:\n${err}`));
          }
        });
      });
    },
  };
}

/** Runs `countersign-agent ARGV` in process to the end. */
export async function runCliToEnd(
  argv: string[],
  io: Partial<CliIo> & Pick<CliIo, "env" | "cwd">,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const run = startCli(argv, io);
  const code = await run.exit;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

/** The request id and number a `request`/`exec` run shows. */
export async function shownRequest(run: CliRun): Promise<{ id: string; number: string }> {
  const match = await run.waitForStderr(/Number: (\d{3}) (\d{3}) .*?(apr_[A-Za-z0-9_-]{22})/);
  return { id: match[3] ?? "", number: `${match[1]}${match[2]}` };
}
