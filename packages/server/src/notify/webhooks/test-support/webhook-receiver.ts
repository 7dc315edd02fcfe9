import { once } from "node:events";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";

/** One request a test receiver got. */
export interface ReceivedWebhook {
  readonly method: string;
  /** The request target as sent: path and query. */
  readonly target: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
  /** The TLS server name the client sent (SNI), on https receivers. */
  readonly servername: string | undefined;
}

/** How a receiver answers: a status (with optional headers), or never ("hang"). */
export type ReceiverAnswer = number | { status: number; headers?: Record<string, string> } | "hang";

/** A loopback HTTP(S) server that records webhooks. */
export interface WebhookReceiver {
  /** `http://127.0.0.1:<port>/hook` (or https). */
  readonly url: string;
  readonly port: number;
  readonly received: ReceivedWebhook[];
  /** Resolves with the next request received (or the first not yet taken). */
  next(): Promise<ReceivedWebhook>;
  /** Answers every hanging request with 200. */
  release(): void;
  close(): Promise<void>;
}

/**
 * Starts a receiver on 127.0.0.1 answering each request with `answer(request, index)` (200 by
 * default). With `tls`, it serves https with that key and certificate.
 */
export async function startWebhookReceiver(
  answer: (request: ReceivedWebhook, index: number) => ReceiverAnswer | Promise<ReceiverAnswer> = () => 200,
  options: { tls?: { key: string; cert: string } } = {},
): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const waiting: Array<(hook: ReceivedWebhook) => void> = [];
  const hanging: ServerResponse[] = [];
  let taken = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    const hook: ReceivedWebhook = {
      method: req.method ?? "",
      target: req.url ?? "",
      headers,
      body: new Uint8Array(Buffer.concat(chunks)),
      servername: (req.socket as Partial<TLSSocket>).servername || undefined,
    };
    const index = received.length;
    received.push(hook);
    const waiter = waiting.shift();
    if (waiter !== undefined) {
      taken++;
      waiter(hook);
    }
    const reply = await answer(hook, index);
    if (reply === "hang") {
      hanging.push(res);
      return;
    }
    const { status, headers: extra = {} } = typeof reply === "number" ? { status: reply } : reply;
    res.writeHead(status, extra).end("ok");
  };
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch(() => res.destroy());
  };
  const server: Server = options.tls ? createHttpsServer(options.tls, listener) : createHttpServer(listener);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;

  return {
    url: `${options.tls ? "https" : "http"}://127.0.0.1:${port}/hook`,
    port,
    received,
    next() {
      if (taken < received.length) return Promise.resolve(received[taken++] as ReceivedWebhook);
      return new Promise((resolve) => waiting.push(resolve));
    },
    release() {
      for (const res of hanging.splice(0)) res.writeHead(200).end("ok");
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
