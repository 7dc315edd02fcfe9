import { randomBytes, randomUUID } from "node:crypto";
import {
  constants,
  createSecureServer,
  type Http2SecureServer,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from "node:http2";
import type { AddressInfo } from "node:net";
import { type CryptoKey, decodeProtectedHeader, importSPKI, jwtVerify } from "jose";
import { generateSelfSignedCertificate } from "./self-signed-cert.ts";

/** A notification the APNs stub accepted. */
export interface ApnsReceived {
  readonly token: string;
  readonly headers: Record<string, string>;
  // biome-ignore lint/suspicious/noExplicitAny: the payload is inspected field by field in tests
  readonly body: any;
  /** The provider token that authorized it. */
  readonly jwt: string;
}

/** A local APNs: HTTP/2 over TLS, token authentication, Apple's status codes and reasons. */
export interface ApnsStub {
  readonly baseUrl: string;
  readonly ca: string;
  readonly received: ApnsReceived[];
  /** Every refusal as `<status> <reason>`, for assertions and failure messages. */
  readonly refused: string[];
  /** A device token the stub knows (a device that registered with APNs). */
  registerDevice(): string;
  /** The app was removed from that device: 410 `Unregistered` from now on. */
  unregister(token: string): void;
  close(): Promise<void>;
}

/**
 * Starts the stub on 127.0.0.1 with a fresh self-signed certificate. It answers like APNs
 * (Apple, "Handling notification responses from APNs"): it checks the provider token (ES256
 * under the team's public key, `kid` = key id, `iss` = team id, `iat` within the last hour: 403
 * `InvalidProviderToken` / `ExpiredProviderToken`), the path and the `apns-*` headers (400 with
 * the matching reason), the alert payload with `interruption-level: time-sensitive`, then the
 * device token: 200 with an `apns-id` for a registered one, 400 `BadDeviceToken` for one it never
 * issued, 410 `Unregistered` for one removed.
 */
export async function startApnsStub(options: {
  teamId: string;
  keyId: string;
  /** The team key's public half, SPKI PEM. */
  publicKey: string;
  bundleId: string;
  now?: () => number;
}): Promise<ApnsStub> {
  const now = options.now ?? Date.now;
  const tls = generateSelfSignedCertificate();
  const key: CryptoKey = await importSPKI(options.publicKey, "ES256");
  const devices = new Map<string, "active" | "unregistered">();
  const received: ApnsReceived[] = [];
  const refused: string[] = [];

  const answer = (stream: ServerHttp2Stream, status: number, reason?: string) => {
    if (reason !== undefined) refused.push(`${status} ${reason}`);
    const apnsId = randomUUID();
    stream.respond({ [constants.HTTP2_HEADER_STATUS]: status, "apns-id": apnsId, "content-type": "application/json" });
    stream.end(
      reason === undefined
        ? undefined
        : JSON.stringify(reason === "Unregistered" ? { reason, timestamp: now() } : { reason }),
    );
  };

  const handle = async (stream: ServerHttp2Stream, headers: Record<string, string | string[] | undefined>) => {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const header = (name: string) => (typeof headers[name] === "string" ? (headers[name] as string) : undefined);
    const path = /^\/3\/device\/([0-9a-f]+)$/.exec(header(":path") ?? "");
    if (header(":method") !== "POST") return answer(stream, 405, "MethodNotAllowed");
    if (path === null) return answer(stream, 404, "BadPath");
    const auth = /^bearer (\S+)$/.exec(header("authorization") ?? "");
    if (auth === null) return answer(stream, 403, "MissingProviderToken");
    const jwt = auth[1] as string;
    try {
      if (decodeProtectedHeader(jwt).kid !== options.keyId) throw new Error("kid");
      const { payload } = await jwtVerify(jwt, key, { algorithms: ["ES256"], issuer: options.teamId });
      const iat = payload.iat ?? 0;
      if (iat * 1000 < now() - 3_600_000) return answer(stream, 403, "ExpiredProviderToken");
      if (iat * 1000 > now() + 60_000) throw new Error("iat in the future");
    } catch {
      return answer(stream, 403, "InvalidProviderToken");
    }
    if (header("apns-push-type") !== "alert") return answer(stream, 400, "InvalidPushType");
    if (header("apns-priority") !== "10") return answer(stream, 400, "BadPriority");
    if (!/^\d+$/.test(header("apns-expiration") ?? "")) return answer(stream, 400, "BadExpirationDate");
    if (header("apns-topic") !== options.bundleId) return answer(stream, 400, "DeviceTokenNotForTopic");
    if ((header("apns-collapse-id") ?? "").length > 64) return answer(stream, 400, "BadCollapseId");
    let body: { aps?: { alert?: unknown; "interruption-level"?: unknown } };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      return answer(stream, 400, "PayloadEmpty");
    }
    if (body.aps?.alert === undefined || body.aps["interruption-level"] !== "time-sensitive") {
      return answer(stream, 400, "BadPayload");
    }
    const token = path[1] as string;
    const device = devices.get(token);
    if (device === undefined) return answer(stream, 400, "BadDeviceToken");
    if (device === "unregistered") return answer(stream, 410, "Unregistered");
    const plain: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) if (typeof value === "string") plain[name] = value;
    received.push({ token, headers: plain, body, jwt });
    return answer(stream, 200);
  };

  const server: Http2SecureServer = createSecureServer({ cert: tls.cert, key: tls.key });
  const sessions = new Set<ServerHttp2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
  });
  server.on("stream", (stream, headers) => {
    handle(stream, headers).catch(() => answer(stream, 500, "InternalServerError"));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const baseUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    baseUrl,
    ca: tls.cert,
    received,
    refused,
    registerDevice() {
      const token = randomBytes(32).toString("hex");
      devices.set(token, "active");
      return token;
    },
    unregister(token) {
      devices.set(token, "unregistered");
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Open client sessions would keep close() waiting.
        for (const session of sessions) session.destroy();
      }),
  };
}
