import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";

// The app's modules set the document's language when loaded.
Object.assign(globalThis, { document: { documentElement: {} } });
const { resendPushSubscription } = await import("./push-subscription.ts");

const json = {
  endpoint: "https://push.example/send/abc",
  expirationTime: null,
  keys: { p256dh: "BP256dh", auth: "authauthauth" },
};

let subscription: { toJSON(): typeof json } | null = null;
const posted: { method: string; path: string; body: unknown }[] = [];

/** A browser with a service worker registration whose push manager holds `subscription`. */
function browser(): void {
  Object.defineProperty(globalThis, "navigator", {
    configurable: true,
    value: {
      serviceWorker: {
        getRegistration: async (scope: string) => {
          assert.equal(scope, "/");
          return { pushManager: { getSubscription: async () => subscription } };
        },
      },
    },
  });
  Object.assign(globalThis, { PushManager: class {}, Notification: class {} });
  globalThis.fetch = (async (path: string, init: RequestInit) => {
    posted.push({ method: String(init.method), path, body: JSON.parse(String(init.body)) });
    return new Response(JSON.stringify({}), { status: 200, headers: { "content-type": "application/json" } });
  }) as typeof fetch;
}

describe("sending the push subscription again once the device is bound", () => {
  beforeEach(() => {
    posted.length = 0;
    subscription = null;
    browser();
  });

  it("posts the browser's existing subscription as it is, so the server records the session's device", async () => {
    subscription = { toJSON: () => json };
    assert.equal(await resendPushSubscription(), true);
    assert.deepEqual(posted, [{ method: "POST", path: "/v1/me/push/subscriptions", body: json }]);
  });

  it("sends nothing, and asks for no permission, when the browser has no subscription", async () => {
    assert.equal(await resendPushSubscription(), false);
    assert.deepEqual(posted, []);
  });

  it("sends nothing where the browser cannot take Web Push", async () => {
    subscription = { toJSON: () => json };
    delete (globalThis as { PushManager?: unknown }).PushManager;
    assert.equal(await resendPushSubscription(), false);
    assert.deepEqual(posted, []);
  });
});
