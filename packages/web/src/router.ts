import { signal } from "@preact/signals";

export { type Screen, screenFor } from "./routes.ts";

/** The current location: path and query. */
export const location = signal({ path: window.location.pathname, query: window.location.search });

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
