import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The package's executable, as `npx countersign-agent` runs it. */
export const CLI_BIN = fileURLToPath(new URL("../../bin/countersign-agent.js", import.meta.url));

/** `countersign-agent` running as its own process. */
export interface CliProcess {
  readonly child: ChildProcess;
  /** Resolves with the exit code (128 + n for signal n). */
  readonly exit: Promise<number>;
  stdout(): string;
  stderr(): string;
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

/** Spawns `node bin/countersign-agent.js ARGV` with `env` added to this process's environment. */
export function spawnCli(argv: string[], options: { env?: Record<string, string>; cwd?: string } = {}): CliProcess {
  const child = spawn(process.execPath, [CLI_BIN, ...argv], {
    env: { ...process.env, ...options.env },
    cwd: options.cwd,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    out += chunk.toString("utf8");
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    err += chunk.toString("utf8");
  });
  const exit = new Promise<number>((resolve) => {
    child.once("close", (code, signal) => resolve(code ?? (signal === null ? -1 : 128 + 2)));
  });
  return {
    child,
    exit,
    stdout: () => out,
    stderr: () => err,
    waitForStderr(pattern, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${pattern} never appeared on stderr:\n${err}`)), timeoutMs);
        const check = (): void => {
          const match = err.match(pattern);
          if (match === null) return;
          clearTimeout(timer);
          child.stderr?.off("data", check);
          resolve(match);
        };
        child.stderr?.on("data", check);
        void exit.then(() => {
          clearTimeout(timer);
          const match = err.match(pattern);
          if (match) resolve(match);
          else reject(new Error(`exited before ${pattern} appeared on stderr:\n${err}`));
        });
        check();
      });
    },
  };
}
