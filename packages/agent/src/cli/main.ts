import { runCli } from "./cli.ts";

/**
 * The process entry point of `countersign-agent`: real streams and environment, Ctrl-C and
 * SIGTERM turned into an abort signal (a second Ctrl-C exits at once), and the exit code set.
 *
 * @example
 * ```ts
 * await main(); // bin/countersign-agent.js
 * ```
 */
export async function main(): Promise<void> {
  const controller = new AbortController();
  const stop = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort(Object.assign(new Error(`received ${signal}`), { signal }));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  process.exitCode = await runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    signal: controller.signal,
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString("utf8");
    },
  });
  process.off("SIGINT", stop);
  process.off("SIGTERM", stop);
}
