import { signal } from "@preact/signals";

/** The screens, by path pattern (the server answers each of these paths with index.html). */
export type Screen =
  | { name: "inbox" }
  | { name: "signin" }
  | { name: "signup" }
  | { name: "history" }
  | { name: "agents" }
  | { name: "devices" }
  | { name: "settings" }
  | { name: "request"; id: string }
  | { name: "not-found" };

/** The current location: path and query. */
export const location = signal({ path: window.location.pathname, query: window.location.search });

const STATIC: Record<string, Screen> = {
  "/": { name: "inbox" },
  "/signin": { name: "signin" },
  "/signup": { name: "signup" },
  "/history": { name: "history" },
  "/agents": { name: "agents" },
  "/devices": { name: "devices" },
  "/settings": { name: "settings" },
};

/** The screen a path shows. */
export function screenFor(path: string): Screen {
  const known = STATIC[path];
  if (known !== undefined) return known;
  const request = /^\/requests\/(apr_[A-Za-z0-9_-]{22})$/.exec(path);
  if (request?.[1] !== undefined) return { name: "request", id: request[1] };
  return { name: "not-found" };
}

/** Goes to `href` within the app, without reloading. */
export function navigate(href: string, options: { replace?: boolean } = {}): void {
  const url = new URL(href, window.location.origin);
  if (options.replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  location.value = { path: url.pathname, query: url.search };
}

addEventListener("popstate", () => {
  location.value = { path: window.location.pathname, query: window.location.search };
});

/** Makes plain `<a href="/…">` links inside the app navigate without a reload. */
export function interceptLinks(root: HTMLElement): void {
  root.addEventListener("click", (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    const anchor = (event.target as Element).closest("a");
    if (anchor === null || anchor.target !== "" || anchor.origin !== window.location.origin) return;
    if (anchor.hasAttribute("download")) return;
    event.preventDefault();
    navigate(anchor.pathname + anchor.search);
  });
}
