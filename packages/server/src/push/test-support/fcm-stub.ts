import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { importSPKI, jwtVerify } from "jose";
import { FCM_SCOPE } from "../fcm-access-token.ts";
import { generateSelfSignedCertificate } from "./self-signed-cert.ts";

/** A message the FCM stub accepted. */
export interface FcmReceived {
  // biome-ignore lint/suspicious/noExplicitAny: inspected field by field in tests
  readonly message: any;
  readonly accessToken: string;
}

/** A local FCM HTTP v1 with its OAuth token endpoint. */
export interface FcmStub {
  readonly baseUrl: string;
  readonly tokenUri: string;
  readonly ca: string;
  readonly received: FcmReceived[];
  readonly refused: string[];
  /** How many access tokens the token endpoint issued. */
  tokensIssued(): number;
  /** A registration token the stub knows (an app instance that registered with FCM). */
  registerDevice(): string;
  close(): Promise<void>;
}

/**
 * Starts the stub on 127.0.0.1 with a fresh self-signed certificate. `POST /token` is the
 * OAuth endpoint: it takes the RFC 7523 JWT bearer grant and verifies the assertion (RS256 under
 * the service account's public key, `iss` = `sub` = client email, `aud` = this URI, the FCM
 * scope, `exp` ≤ 1 h after `iat`) before issuing a 1-hour access token (RFC 6749 §5.1).
 * `POST /v1/projects/{project}/messages:send` checks the bearer token (401 UNAUTHENTICATED), the
 * body (`message.token`, `android.priority: HIGH`, `android.ttl` as `"<n>s"`, string data; 400
 * INVALID_ARGUMENT) and the device token: 200 `{ name }` for a registered one, 404 NOT_FOUND with
 * `errorCode: UNREGISTERED` otherwise, as FCM does.
 */
export async function startFcmStub(options: {
  projectId: string;
  clientEmail: string;
  /** The service account key's public half, SPKI PEM. */
  publicKey: string;
  now?: () => number;
}): Promise<FcmStub> {
  const now = options.now ?? Date.now;
  const tls = generateSelfSignedCertificate();
  const key = await importSPKI(options.publicKey, "RS256");
  const accessTokens = new Map<string, number>();
  const devices = new Set<string>();
  const received: FcmReceived[] = [];
  const refused: string[] = [];
  let origin = "";

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  };
  const googleError = (res: ServerResponse, code: number, status: string, errorCode?: string) => {
    refused.push(`${code} ${errorCode ?? status}`);
    json(res, code, {
      error: {
        code,
        message: status,
        status,
        ...(errorCode === undefined
          ? {}
          : { details: [{ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", errorCode }] }),
      },
    });
  };

  const token = async (body: string, res: ServerResponse) => {
    const form = new URLSearchParams(body);
    if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") {
      refused.push("400 unsupported_grant_type");
      return json(res, 400, { error: "unsupported_grant_type" });
    }
    try {
      const { payload } = await jwtVerify(form.get("assertion") ?? "", key, {
        algorithms: ["RS256"],
        issuer: options.clientEmail,
        subject: options.clientEmail,
        audience: `${origin}/token`,
        currentDate: new Date(now()),
        requiredClaims: ["iat", "exp"],
      });
      if ((payload.exp as number) - (payload.iat as number) > 3600) throw new Error("exp more than 1 h after iat");
      if (payload.scope !== FCM_SCOPE) throw new Error("scope");
    } catch {
      refused.push("400 invalid_grant");
      return json(res, 400, { error: "invalid_grant", error_description: "Invalid JWT Signature." });
    }
    const accessToken = `ya29.${randomBytes(24).toString("base64url")}`;
    accessTokens.set(accessToken, now() + 3_600_000);
    return json(res, 200, { access_token: accessToken, expires_in: 3599, token_type: "Bearer" });
  };

  const send = (req: IncomingMessage, body: string, res: ServerResponse) => {
    const bearer = /^Bearer (\S+)$/.exec(String(req.headers.authorization ?? ""))?.[1];
    const expiry = bearer === undefined ? undefined : accessTokens.get(bearer);
    if (bearer === undefined || expiry === undefined || expiry <= now()) {
      return googleError(res, 401, "UNAUTHENTICATED");
    }
    // biome-ignore lint/suspicious/noExplicitAny: checked field by field below
    let message: any;
    try {
      message = JSON.parse(body).message;
    } catch {
      return googleError(res, 400, "INVALID_ARGUMENT");
    }
    const data = message?.data ?? {};
    if (
      typeof message?.token !== "string" ||
      message.android?.priority !== "HIGH" ||
      !/^\d+(\.\d{1,9})?s$/.test(String(message.android?.ttl)) ||
      Object.values(data).some((v) => typeof v !== "string")
    ) {
      return googleError(res, 400, "INVALID_ARGUMENT", "INVALID_ARGUMENT");
    }
    if (!devices.has(message.token)) return googleError(res, 404, "NOT_FOUND", "UNREGISTERED");
    received.push({ message, accessToken: bearer });
    return json(res, 200, { name: `projects/${options.projectId}/messages/${randomBytes(8).toString("hex")}` });
  };

  const server: Server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      if (req.method === "POST" && req.url === "/token") {
        token(body, res).catch(() => json(res, 500, {}));
      } else if (req.method === "POST" && req.url === `/v1/projects/${options.projectId}/messages:send`) {
        send(req, body, res);
      } else {
        googleError(res, 404, "NOT_FOUND");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    baseUrl: origin,
    tokenUri: `${origin}/token`,
    ca: tls.cert,
    received,
    refused,
    tokensIssued: () => accessTokens.size,
    registerDevice() {
      const device = `${randomBytes(8).toString("base64url")}:APA91b${randomBytes(60).toString("base64url")}`;
      devices.add(device);
      return device;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
