/**
 * A self-signed certificate for `hook.test` (P-256, valid 2020–2120) and its private key, for the
 * https tests of the webhook transport only: the receiver serves it, the transport trusts it
 * through its test-only `ca` option. Made with `openssl ca -selfsign`; it secures nothing.
 */
export const HOOK_TEST_TLS = Object.freeze({
  hostname: "hook.test",
  key: `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgHxqG5ySVgcp4v/TQ
vXGtdJM8iUTnLU9jL0OLyPMzD7qhRANCAASst6f1tofyzAR1Aqo4FyveT3SL5q1P
Z0nu8TOSUdqd0B0yItPZo23C5ixjFmWFldQPMKMaSP2KTuegXbPGtnyQ
-----END PRIVATE KEY-----
`,
  cert: `-----BEGIN CERTIFICATE-----
MIIBXTCCAQSgAwIBAgIBATAKBggqhkjOPQQDAjAUMRIwEAYDVQQDDAlob29rLnRl
c3QwIBcNMjAwMTAxMDAwMDAwWhgPMjEyMDAxMDEwMDAwMDBaMBQxEjAQBgNVBAMM
CWhvb2sudGVzdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABKy3p/W2h/LMBHUC
qjgXK95PdIvmrU9nSe7xM5JR2p3QHTIi09mjbcLmLGMWZYWV1A8woxpI/YpO56Bd
s8a2fJCjRTBDMBQGA1UdEQQNMAuCCWhvb2sudGVzdDAMBgNVHRMBAf8EAjAAMB0G
A1UdDgQWBBQj+8X3mPoUr48CEya7joNQDsontjAKBggqhkjOPQQDAgNHADBEAiBi
3Q7Qr7tmOuRpdmnhSZTL5r9q8NIVsWVo3qQwXyC4fwIgF48zoYd/qpaPrDzCjhrx
MHqUw6zW6/yA5dSFaBekCkc=
-----END CERTIFICATE-----
`,
});
