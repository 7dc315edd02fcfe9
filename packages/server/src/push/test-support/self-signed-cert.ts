import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A certificate and its private key, PEM. */
export interface TestCertificate {
  readonly cert: string;
  readonly key: string;
}

/**
 * Generates a fresh self-signed P-256 certificate for `localhost` and 127.0.0.1, valid one day,
 * for the stub push services. The adapters trust it through their test-only `ca` option; it
 * secures nothing. Uses the `openssl` command because node:crypto cannot issue certificates.
 */
export function generateSelfSignedCertificate(): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), "cs-push-tls-"));
  try {
    const key = join(dir, "key.pem");
    const cert = join(dir, "cert.pem");
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        key,
        "-out",
        cert,
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
      ],
      { stdio: "ignore" },
    );
    return { cert: readFileSync(cert, "utf8"), key: readFileSync(key, "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
