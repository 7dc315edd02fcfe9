import { loadConfig } from "../config/load-config.ts";
import { startServer } from "../server.ts";
import type { CliCommand } from "./cli-command.ts";

/** `countersign serve`: start the server and stop it gracefully on SIGINT/SIGTERM. */
export const serveCommand: CliCommand = {
  name: "serve",
  usage: "serve",
  summary: "Start the server (embedded PGlite in ./.countersign unless DATABASE_URL is set)",
  async run(_args, env) {
    const config = loadConfig(env);
    if (config.secrets.source === "generated") {
      console.warn(
        `⚠ Generated development secrets in ${config.secrets.file} (mode 0600). Keep that file private; ` +
          "in production set COUNTERSIGN_SECRETS_FILE or the secret variables.",
      );
    } else if (config.database.kind === "embedded") {
      console.warn(`⚠ Development mode: embedded database and secrets in ${config.dataDir}. Not for production.`);
    }
    const server = await startServer(config);
    const database =
      config.database.kind === "embedded" ? `embedded PGlite in ${config.dataDir}` : "PostgreSQL (DATABASE_URL)";
    console.log(
      `Countersign is running at ${config.publicUrl}  (listening on ${server.address}; database: ${database})`,
    );

    return new Promise<number>((resolve) => {
      const stop = (signal: string) => {
        server.app.log.info({ signal }, "shutting down");
        server.close().then(
          () => resolve(0),
          (err: unknown) => {
            console.error("countersign: shutdown failed:", err);
            resolve(1);
          },
        );
      };
      process.once("SIGINT", () => stop("SIGINT"));
      process.once("SIGTERM", () => stop("SIGTERM"));
    });
  },
};
