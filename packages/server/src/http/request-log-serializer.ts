import type { FastifyRequest } from "fastify";

/**
 * What the request log records of each request: Fastify's default fields, but the URL without its
 * query string. A query may carry what must not sit in log files — a link pasted with a code in
 * it, a cursor, a filter naming a person — and nothing the server needs to debug a request is
 * there that the route and request id do not already say. Fragments never reach the server, which
 * is why the app puts one-time secrets such as a pairing code there (docs/devices-and-e2e.md).
 */
export function serializeRequestForLog(request: FastifyRequest) {
  const url = request.url;
  const query = url.indexOf("?");
  return {
    method: request.method,
    url: query === -1 ? url : `${url.slice(0, query)}?[redacted]`,
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}
