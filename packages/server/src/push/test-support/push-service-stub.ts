import { createECDH, randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { importJWK, jwtVerify } from "jose";
import { decryptRfc8291 } from "./rfc8291-decrypt.ts";
import { generateSelfSignedCertificate } from "./self-signed-cert.ts";

/** A browser's push subscription as the stub hands it out (the PushSubscription JSON). */
export interface StubSubscription {
  readonly endpoint: string;
  readonly keys: { readonly p256dh: string; readonly auth: string };
}

/** One push message the stub accepted, decrypted. */
export interface ReceivedPush {
  readonly endpoint: string;
  readonly ttl: number;
  readonly urgency: string | undefined;
  readonly topic: string | undefined;
  /** The decrypted payload, as text. */
  readonly text: string;
  /** The VAPID JWT's claims (RFC 8292 §2). */
  readonly vapid: { readonly aud: string; readonly exp: number; readonly sub: string };
  /** The application server key (`k`, RFC 8292 §3.2), base64url. */
  readonly vapidKey: string;
}

/** A refused push, with the reason, so tests can see why the stub said no. */
export interface RefusedPush {
  readonly endpoint: string;
  readonly status: number;
  readonly reason: string;
}

/** A local push service speaking RFC 8030 with VAPID (RFC 8292) and RFC 8291 payloads. */
export interface PushServiceStub {
  /** The stub's certificate (PEM), for the sender's `ca` option. */
  readonly ca: string;
  readonly origin: string;
  readonly received: ReceivedPush[];
  readonly refused: RefusedPush[];
  /** A new subscriber (a browser): its subscription JSON; the stub keeps its private key. */
  subscribe(): StubSubscription;
  /** Makes the push service answer pushes to `endpoint` with `status` from now on (404/410: gone, 429, 5xx). */
  respondWith(endpoint: string, status: number): void;
  close(): Promise<void>;
}

interface Subscriber {
  readonly privateKey: Buffer;
  readonly publicKey: Buffer;
  readonly authSecret: Buffer;
  status: number;
}

const MAX_VAPID_LIFETIME_SECONDS = 24 * 60 * 60;

/**
 * Starts the stub on 127.0.0.1 with a fresh self-signed certificate. For each push it checks, in
 * order: the subscriber exists (404), `TTL` is present (RFC 8030 §5.2, 400), the VAPID
 * `Authorization` header (RFC 8292 §3: `vapid t=<JWT>, k=<key>`, ES256 under k, `aud` = the
 * endpoint's origin, `exp` in the future and ≤ 24 h away, `sub` a mailto: or https: URI; 401/403),
 * `Content-Encoding: aes128gcm` (RFC 8291 §4, 415), then decrypts the body with the subscriber's
 * private key (400 if it does not decrypt). Accepted pushes get 201 (RFC 8030 §5) unless a status
 * was set with `respondWith`.
 */
export async function startPushServiceStub(options: { now?: () => number } = {}): Promise<PushServiceStub> {
  const now = options.now ?? Date.now;
  const tls = generateSelfSignedCertificate();
  const subscribers = new Map<string, Subscriber>();
  const received: ReceivedPush[] = [];
  const refused: RefusedPush[] = [];
  let origin = "";

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const endpoint = `${origin}${req.url ?? ""}`;
    const refuse = (status: number, reason: string) => {
      refused.push({ endpoint, status, reason });
      res.writeHead(status).end();
    };
    const subscriber = subscribers.get(endpoint);
    if (req.method !== "POST" || subscriber === undefined) return refuse(404, "no such subscription");
    const ttl = Number(req.headers.ttl);
    if (req.headers.ttl === undefined || !Number.isInteger(ttl) || ttl < 0) return refuse(400, "TTL missing");
    const auth = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(String(req.headers.authorization ?? ""));
    if (auth === null) return refuse(401, "no vapid authorization");
    const [, token, k] = auth as unknown as [string, string, string];
    let claims: { aud: string; exp: number; sub: string };
    try {
      const point = Buffer.from(k, "base64url");
      if (point.length !== 65 || point[0] !== 4) throw new Error("k is not an uncompressed P-256 point");
      const key = await importJWK(
        {
          kty: "EC",
          crv: "P-256",
          x: point.subarray(1, 33).toString("base64url"),
          y: point.subarray(33).toString("base64url"),
        },
        "ES256",
      );
      const { payload } = await jwtVerify(token, key, {
        algorithms: ["ES256"],
        audience: origin,
        currentDate: new Date(now()),
        requiredClaims: ["exp", "sub"],
      });
      claims = payload as typeof claims;
    } catch (error) {
      return refuse(403, `vapid: ${(error as Error).message}`);
    }
    // RFC 8292 §2: exp MUST NOT be more than 24 hours from the time of the request.
    if (claims.exp > Math.floor(now() / 1000) + MAX_VAPID_LIFETIME_SECONDS) return refuse(403, "vapid exp > 24 h");
    if (!/^(mailto:|https:)/.test(claims.sub)) return refuse(403, "vapid sub is not mailto: or https:");
    if (req.headers["content-encoding"] !== "aes128gcm") return refuse(415, "not aes128gcm");
    let text: string;
    try {
      text = decryptRfc8291(body, subscriber).plaintext.toString("utf8");
    } catch (error) {
      return refuse(400, `decrypt: ${(error as Error).message}`);
    }
    const header = (name: string) => (req.headers[name] === undefined ? undefined : String(req.headers[name]));
    received.push({
      endpoint,
      ttl,
      urgency: header("urgency"),
      topic: header("topic"),
      text,
      vapid: claims,
      vapidKey: k,
    });
    res.writeHead(subscriber.status, subscriber.status === 201 ? { location: `${endpoint}/m/${received.length}` } : {});
    res.end();
  };

  const server: Server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    handle(req, res).catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    ca: tls.cert,
    origin,
    received,
    refused,
    subscribe() {
      const ecdh = createECDH("prime256v1");
      ecdh.generateKeys();
      const subscriber: Subscriber = {
        privateKey: ecdh.getPrivateKey(),
        publicKey: ecdh.getPublicKey(),
        authSecret: randomBytes(16),
        status: 201,
      };
      const endpoint = `${origin}/push/${randomBytes(12).toString("base64url")}`;
      subscribers.set(endpoint, subscriber);
      return {
        endpoint,
        keys: { p256dh: subscriber.publicKey.toString("base64url"), auth: subscriber.authSecret.toString("base64url") },
      };
    },
    respondWith(endpoint, status) {
      const subscriber = subscribers.get(endpoint);
      if (subscriber === undefined) throw new Error("unknown endpoint");
      subscriber.status = status;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
