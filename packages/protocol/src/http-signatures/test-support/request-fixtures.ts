import fc from "fast-check";
import { generateEd25519KeyPair } from "../../crypto/ed25519.ts";
import { utf8 } from "../../encoding/bytes.ts";
import type { HttpRequestParts } from "../http-request-parts.ts";

/** A request with its body, as `signRequest` and `verifyRequest` take it. */
export type RequestWithBody = HttpRequestParts & { body?: Uint8Array };

/** A fixed Unix time for tests, so windows never depend on the clock. */
export const NOW = 1_750_000_000;

/** A fresh agent key pair with a key id. */
export async function agentKey(
  keyId = "agt_test_1",
): Promise<{ keyId: string; privateKey: CryptoKey; publicKey: CryptoKey }> {
  const { privateKey, publicKey } = await generateEd25519KeyPair();
  return { keyId, privateKey, publicKey };
}

/** A typical agent call: POST /v1/approvals with a JSON body and an Idempotency-Key. */
export function approvalRequest(): RequestWithBody {
  return {
    method: "POST",
    authority: "api.countersign.example",
    path: "/v1/approvals",
    query: "",
    scheme: "https",
    headers: {
      "content-type": "application/json",
      "idempotency-key": "5b0f6d1e-8a4c-4f7e-9a51-2f0c8e7d1b3a",
    },
    body: utf8('{"action_type":"deploy","title":"Deploy v2 to production"}'),
  };
}

const host = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,12}[a-z0-9])?(?:\.[a-z0-9]{1,8}){0,3}$/);
const port = fc.option(fc.integer({ min: 1, max: 65_535 }), { nil: undefined });

/** Arbitrary requests our profile can sign: token methods, lowercase authorities, origin-form targets. */
export const arbitraryRequest: fc.Arbitrary<RequestWithBody> = fc
  .record({
    method: fc.oneof(fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE"), fc.stringMatching(/^[A-Za-z]{1,10}$/)),
    host,
    port,
    path: fc
      .array(fc.stringMatching(/^[A-Za-z0-9._~%!$&'()*+,;=:@-]{0,12}$/), { maxLength: 4 })
      .map((s) => `/${s.join("/")}`),
    query: fc.oneof(
      fc.constant(""),
      fc.stringMatching(/^[A-Za-z0-9=&%._~/?-]{1,30}$/).map((q) => `?${q}`),
    ),
    idempotencyKey: fc.option(fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), { nil: undefined }),
    contentType: fc.option(fc.constantFrom("application/json", "text/plain"), { nil: undefined }),
    body: fc.option(fc.uint8Array({ maxLength: 300 }), { nil: undefined }),
  })
  .map(({ method, host, port, path, query, idempotencyKey, contentType, body }) => {
    const headers: Record<string, string> = {};
    if (idempotencyKey !== undefined) headers["idempotency-key"] = idempotencyKey;
    if (contentType !== undefined) headers["content-type"] = contentType;
    const request: RequestWithBody = {
      method,
      authority: port === undefined ? host : `${host}:${port}`,
      path,
      query,
      scheme: "https",
      headers,
    };
    if (body !== undefined) request.body = body;
    return request;
  });

/** Replaces the character at `index % text.length` with one from `alphabet` that differs from it. */
export function replaceChar(
  text: string,
  index: number,
  pick: number,
  alphabet: string,
  caseInsensitive = false,
): string {
  const at = index % text.length;
  const original = text.charAt(at);
  const same = (c: string) => (caseInsensitive ? c.toLowerCase() === original.toLowerCase() : c === original);
  const choices = [...alphabet].filter((c) => !same(c));
  const replacement = choices[pick % choices.length] as string;
  return text.slice(0, at) + replacement + text.slice(at + 1);
}
