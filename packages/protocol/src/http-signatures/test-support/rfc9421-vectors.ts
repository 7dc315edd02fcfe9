import type { HttpRequestParts } from "../http-request-parts.ts";

/**
 * Test material from RFC 9421 Appendix B, copied byte for byte (line wrapping per RFC 8792 undone).
 */

/** Appendix B.1.4 `test-key-ed25519`: the PKCS#8 private key, base64 DER. */
export const TEST_KEY_ED25519_PKCS8 = "MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF";
/** Appendix B.1.4 `test-key-ed25519`: the SPKI public key, base64 DER. */
export const TEST_KEY_ED25519_SPKI = "MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=";

/** The body of the Appendix B.2 `test-request`. */
export const TEST_REQUEST_BODY = '{"hello": "world"}';

/**
 * The Appendix B.2 `test-request`:
 *
 * ```
 * POST /foo?param=Value&Pet=dog HTTP/1.1
 * Host: example.com
 * Date: Tue, 20 Apr 2021 02:07:55 GMT
 * Content-Type: application/json
 * Content-Digest: sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:
 * Content-Length: 18
 *
 * {"hello": "world"}
 * ```
 */
export const TEST_REQUEST: HttpRequestParts = {
  method: "POST",
  authority: "example.com",
  path: "/foo",
  query: "?param=Value&Pet=dog",
  scheme: "https",
  headers: {
    host: "example.com",
    date: "Tue, 20 Apr 2021 02:07:55 GMT",
    "content-type": "application/json",
    "content-digest":
      "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:",
    "content-length": "18",
  },
};

/** Appendix B.2.6: the covered components. */
export const B26_COMPONENTS = ["date", "@method", "@path", "@authority", "content-type", "content-length"] as const;

/** Appendix B.2.6: the `@signature-params` value, which is also the `sig-b26` member of Signature-Input. */
export const B26_SIGNATURE_PARAMS =
  '("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"';

/** Appendix B.2.6: the signature base. */
export const B26_SIGNATURE_BASE = [
  '"date": Tue, 20 Apr 2021 02:07:55 GMT',
  '"@method": POST',
  '"@path": /foo',
  '"@authority": example.com',
  '"content-type": application/json',
  '"content-length": 18',
  `"@signature-params": ${B26_SIGNATURE_PARAMS}`,
].join("\n");

/** Appendix B.2.6: the Signature-Input field value. */
export const B26_SIGNATURE_INPUT = `sig-b26=${B26_SIGNATURE_PARAMS}`;

/** Appendix B.2.6: the Signature field value. */
export const B26_SIGNATURE =
  "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:";
