/// <reference lib="webworker" />
// The approver app's service worker: the offline shell, and the notification of a new request.
// Built by scripts/build.ts, which strips the types and defines the two constants below.

declare const self: ServiceWorkerGlobalScope;
/** The build's id: a new build is a new cache. */
declare const BUILD_ID: string;
/** The shell: "/" (index.html), the hashed assets, the manifest and the icons. */
declare const PRECACHE: string[];

const CACHE = `countersign-shell-${BUILD_ID}`;
const SCREENS = /^\/(?:signin|signup|history|agents|devices|settings|requests\/apr_[A-Za-z0-9_-]{22})?$/;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(PRECACHE))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  // The API, the event stream and anything not ours go straight to the network, never a cache.
  if (url.origin !== self.location.origin || url.pathname.startsWith("/v1/")) return;
  if (request.mode === "navigate" && SCREENS.test(url.pathname)) {
    // Network first, so a deploy is seen at once; the cached shell when offline.
    event.respondWith(fetch(request).catch(async () => (await caches.match("/")) ?? Response.error()));
    return;
  }
  if (url.pathname.startsWith("/assets/") || url.pathname.startsWith("/icons/")) {
    event.respondWith(caches.match(request).then((hit) => hit ?? fetch(request)));
  }
});

/** What the server's push carries: never the request's context (DESIGN §4.10, issue 7 §3). */
interface PushPayload {
  approval_id?: string;
  id?: string;
  title?: string;
  agent_name?: string;
  agent?: string;
  action_type?: string;
}

self.addEventListener("push", (event) => {
  let data: PushPayload = {};
  try {
    data = (event.data?.json() ?? {}) as PushPayload;
  } catch {
    data = {};
  }
  const id = data.approval_id ?? data.id ?? "";
  const agent = data.agent_name ?? data.agent ?? "";
  const body = [agent, data.action_type].filter((part) => part !== undefined && part !== "").join(" · ");
  // No actions: approving happens only on the request's screen, after typing its number (T-1).
  event.waitUntil(
    self.registration.showNotification(data.title ?? "Countersign", {
      body,
      tag: id === "" ? "countersign" : id,
      data: { id },
      icon: "/icons/icon-192.png",
      badge: "/icons/icon-192.png",
      requireInteraction: true,
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const id = String((event.notification.data as { id?: string } | null)?.id ?? "");
  const valid = /^apr_[A-Za-z0-9_-]{22}$/.test(id);
  const target = valid ? `/requests/${id}` : "/";
  event.waitUntil(
    (async () => {
      if (valid) {
        // The delivered acknowledgement (pending → delivered); the session cookie goes along.
        await fetch(`/v1/me/approvals/${id}/delivered`, { method: "POST", credentials: "same-origin" }).catch(
          () => undefined,
        );
      }
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      for (const client of windows) {
        if (new URL(client.url).origin === self.location.origin) {
          await client.focus();
          await client.navigate(target);
          return;
        }
      }
      await self.clients.openWindow(target);
    })(),
  );
});
