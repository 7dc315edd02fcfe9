import { createServer } from "node:net";

/**
 * A port on 127.0.0.1 that was free a moment ago, for a child process that must be told its port
 * before it starts. The kernel picks it, so it is never one this machine's open connections hold
 * (a random pick in the ephemeral range collided with one now and then: EADDRINUSE in CI).
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address !== "object") throw new Error("no port was assigned");
  return address.port;
}
