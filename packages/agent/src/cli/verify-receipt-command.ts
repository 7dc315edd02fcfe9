import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { CountersignError, type DisplayPayload } from "@countersign/protocol";
import { decodeJwt } from "jose";
import { readKeyFile } from "../key-file/read-key-file.ts";
import { verifyReceipt } from "../receipts/verify-receipt.ts";
import { usageError } from "./cli-error.ts";
import type { CliIo } from "./cli-io.ts";
import { EXIT } from "./exit-codes.ts";
import { keyFilePath } from "./load-agent-client.ts";
import { readJsonArgument } from "./read-json-argument.ts";

/**
 * `countersign-agent verify-receipt [TOKEN|-] [--action TYPE] [--issuer URL] [--jwks-url URL]
 * [--audience AGENT_ID] [--display-payload JSON|@file] [--json]`
 *
 * Verifies an approval receipt as a downstream system would (see `verifyReceipt`) and prints its
 * claims. Without `--action` the receipt's own action type is accepted and a warning says so:
 * a system about to act must pass the action it is about to perform. The token defaults to `$COUNTERSIGN_RECEIPT` (as `exec` sets it); `-` reads standard
 * input. The server defaults to `--server`, `$COUNTERSIGN_SERVER` or the key file's; the issuer
 * to `$COUNTERSIGN_ISSUER` or that server's origin (set it when the API host is not the public
 * URL), the JWKS to the server's `/.well-known/jwks.json`. Exits 0 valid, 1 not valid, 4 when it
 * could not be checked.
 *
 * @example
 * ```ts
 * process.exitCode = await verifyReceiptCommand(["--action", "deploy.production"], io);
 * ```
 */
export async function verifyReceiptCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      action: { type: "string" },
      issuer: { type: "string" },
      "jwks-url": { type: "string" },
      audience: { type: "string" },
      "display-payload": { type: "string" },
      server: { type: "string" },
      "key-file": { type: "string" },
      json: { type: "boolean" },
    },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length > 1) throw usageError("verify-receipt takes one token");
  let token = positionals[0] ?? io.env.COUNTERSIGN_RECEIPT;
  if (token === "-") token = (await io.readStdin?.())?.trim();
  if (!token) throw usageError("give the receipt as an argument, on standard input (-) or in COUNTERSIGN_RECEIPT");

  let server = values.server ?? io.env.COUNTERSIGN_SERVER;
  if (server === undefined && values["jwks-url"] === undefined) {
    server = (await readKeyFile(keyFilePath(values, io))).server;
  }
  const issuer =
    values.issuer ?? io.env.COUNTERSIGN_ISSUER ?? (server === undefined ? undefined : new URL(server).origin);
  const jwksUrl =
    values["jwks-url"] ?? (server === undefined ? undefined : new URL("/.well-known/jwks.json", server).href);
  if (issuer === undefined || jwksUrl === undefined) throw usageError("give --server, or --issuer and --jwks-url");
  const displayPayload =
    values["display-payload"] === undefined
      ? undefined
      : ((await readJsonArgument(
          values["display-payload"],
          "--display-payload",
          resolve(io.cwd),
        )) as unknown as DisplayPayload);

  let actionType = values.action;
  if (actionType === undefined) {
    try {
      actionType = String(decodeJwt(token).act);
    } catch {
      actionType = "";
    }
    io.stderr.write("Warning: the action type is not checked; pass --action TYPE to require one.\n");
  }
  try {
    const { claims } = await verifyReceipt(token, {
      jwksUrl,
      issuer,
      actionType,
      ...(values.audience === undefined ? {} : { audience: values.audience }),
      ...(displayPayload === undefined ? {} : { displayPayload }),
      ...(io.now ? { currentDate: new Date(io.now()) } : {}),
    });
    io.stdout.write(values.json ? `${JSON.stringify(claims)}\n` : `${JSON.stringify(claims, null, 2)}\n`);
    io.stderr.write(`Valid receipt: ${claims.act} approved by ${claims.sub} for ${claims.aud} (${claims.jti}).\n`);
    return EXIT.approved;
  } catch (error) {
    if (
      error instanceof CountersignError &&
      error.code !== "service_unavailable" &&
      error.code !== "validation_failed"
    ) {
      io.stderr.write(`Not a valid receipt: ${error.code}: ${error.message}\n`);
      return EXIT.rejected;
    }
    throw error;
  }
}
