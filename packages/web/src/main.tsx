// First: a pairing code in the address (the QR link's `#pair=`) is taken out before anything runs.
import "./pairing/take-pair-fragment.ts";
import { render } from "preact";
import { onSessionEnded } from "./api/api.ts";
import { App } from "./app.tsx";
import { interceptLinks } from "./router.ts";
import { refreshSession, signedOut, startDevice } from "./session.ts";
import "./styles.css";

const root = document.getElementById("app");
if (root === null) throw new Error("no #app element");
root.textContent = "";
interceptLinks(root);
// Any call that finds the session gone sends the app back to sign-in.
onSessionEnded(signedOut);

let startupError: unknown = null;
const draw = () => render(<App startupError={startupError} />, root);
draw();
refreshSession()
  .then((account) => {
    // No passkey prompt at start-up: registering waits for the person (devices screen banner).
    if (account !== null) void startDevice(account, false);
  })
  .catch((error: unknown) => {
    startupError = error;
    draw();
  });

// The offline shell and notifications. Only in the built app: a development server's modules
// would otherwise be cached.
if (import.meta.env.PROD && "serviceWorker" in navigator) {
  navigator.serviceWorker.register(serviceWorkerUrl(), { scope: "/" }).catch((error: unknown) => {
    console.warn("service worker not registered", error);
  });
}

/**
 * The service worker's URL. The CSP requires Trusted Types for script URLs and allows one policy,
 * `countersign`, which passes exactly this URL and nothing else.
 */
function serviceWorkerUrl(): string {
  const url = "/sw.js";
  const tt = (globalThis as { trustedTypes?: { createPolicy(name: string, rules: object): unknown } }).trustedTypes;
  if (tt === undefined) return url;
  const policy = tt.createPolicy("countersign", {
    createScriptURL: (input: string) => {
      if (input !== url) throw new TypeError(`script URL refused: ${input}`);
      return input;
    },
  }) as { createScriptURL(input: string): string };
  return policy.createScriptURL(url);
}
