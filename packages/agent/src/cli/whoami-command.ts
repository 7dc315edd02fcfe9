import { parseArgs } from "node:util";
import type { CliIo } from "./cli-io.ts";
import { EXIT } from "./exit-codes.ts";
import { loadAgentClient } from "./load-agent-client.ts";

/**
 * `countersign-agent whoami [--json]`: the agent as the server sees it, a check that the key works,
 * and the account key fingerprint the key file pins when context is encrypted end to end (to
 * compare with the app's).
 *
 * @example
 * ```ts
 * await whoamiCommand(["--json"], io);
 * ```
 */
export async function whoamiCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { "key-file": { type: "string" }, server: { type: "string" }, json: { type: "boolean" } },
    strict: true,
  });
  const client = await loadAgentClient(values, io);
  const me = await client.whoami(io.signal ? { signal: io.signal } : {});
  if (values.json) {
    io.stdout.write(
      `${JSON.stringify({
        agent_id: me.agentId,
        name: me.name,
        auth_mode: me.authMode,
        verified: me.verified,
        allowed_actions: me.allowedActions,
        default_ttl_seconds: me.defaultTtlSeconds,
        credentials_version: me.credentialsVersion,
        key_id: me.keyId,
        server: client.server.origin,
        e2e:
          client.e2e === undefined
            ? null
            : { account_key_id: client.e2e.account_key_id, fingerprint: client.e2e.fingerprint },
      })}\n`,
    );
  } else {
    io.stdout.write(
      `${me.agentId} "${me.name}" (${me.authMode}${me.verified ? ", verified" : ""}) at ${client.server.origin}\n` +
        `may ask for: ${me.allowedActions.join(", ") || "nothing"}\n` +
        (client.e2e === undefined
          ? ""
          : `context is encrypted end to end to the account key ${client.e2e.fingerprint} (pinned at enrolment)\n`),
    );
  }
  return EXIT.approved;
}
