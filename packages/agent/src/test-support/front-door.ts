import { connect, createServer, type Server, type Socket } from "node:net";

/** What the front door does with new connections. */
export type FrontDoorMode = "pass" | "blackhole";

/** One HTTP request head seen passing through. */
export interface SeenRequest {
  readonly method: string;
  readonly target: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * A TCP proxy in front of the test server. It listens before the server's configuration exists,
 * so the configuration's API host can be the door's address; it forwards bytes unchanged (the
 * `Host` header, and so the signed `@authority`, arrive as the client sent them). Tests make it
 * misbehave: swallow the answer to a request the server did process, or accept connections and
 * never answer.
 */
export interface FrontDoor {
  /** `127.0.0.1:<port>`. */
  readonly host: string;
  readonly url: string;
  /** Request heads seen, in order. */
  readonly seen: SeenRequest[];
  readonly mode: FrontDoorMode;
  /** Changes the mode and cuts every open connection, so none carries over from the other mode. */
  setMode(mode: FrontDoorMode): void;
  /** Where to forward to; set once the server listens. */
  targetPort: number;
  /**
   * The next request matching `test` is forwarded, and the server's answer is thrown away: the
   * client's connection is cut instead, as a network failure after the server acted.
   */
  dropAnswerTo(test: (request: SeenRequest) => boolean): void;
  close(): Promise<void>;
}

/** Opens a {@link FrontDoor} on a free loopback port. */
export async function openFrontDoor(): Promise<FrontDoor> {
  const sockets = new Set<Socket>();
  let dropTest: ((request: SeenRequest) => boolean) | undefined;
  const door: FrontDoor = {
    host: "",
    url: "",
    seen: [],
    mode: "pass",
    setMode(mode) {
      Object.assign(door, { mode });
      for (const socket of sockets) socket.destroy();
    },
    targetPort: 0,
    dropAnswerTo(test) {
      dropTest = test;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => {});
    if (door.mode === "blackhole") {
      client.resume();
      return;
    }
    const upstream = connect(door.targetPort, "127.0.0.1");
    sockets.add(upstream);
    upstream.on("close", () => {
      sockets.delete(upstream);
      client.destroy();
    });
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    let swallow = false;
    client.on("data", (chunk: Buffer) => {
      for (const request of parseHeads(chunk.toString("latin1"))) {
        door.seen.push(request);
        if (dropTest?.(request)) {
          dropTest = undefined;
          swallow = true;
        }
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (swallow) {
        // The server answered; the client never hears it.
        upstream.destroy();
        client.destroy();
        return;
      }
      client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no address");
  Object.assign(door, { host: `127.0.0.1:${address.port}`, url: `http://127.0.0.1:${address.port}` });
  return door;
}

/** Request heads in a chunk of client bytes (enough for the small requests of these tests). */
function parseHeads(text: string): SeenRequest[] {
  const heads: SeenRequest[] = [];
  for (const match of text.matchAll(/(?:^|\r\n)(GET|POST|DELETE|PUT|PATCH) (\S+) HTTP\/1\.1\r\n([\s\S]*?)\r\n\r\n/g)) {
    const headers: Record<string, string> = {};
    for (const line of (match[3] ?? "").split("\r\n")) {
      const colon = line.indexOf(":");
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    heads.push({ method: match[1] ?? "", target: match[2] ?? "", headers });
  }
  return heads;
}
