/** The screens, by path pattern (the server answers each of these paths with index.html). */
export type Screen =
  | { name: "inbox" }
  | { name: "signin" }
  | { name: "signup" }
  | { name: "recover" }
  | { name: "history" }
  | { name: "agents" }
  | { name: "devices" }
  | { name: "settings" }
  | { name: "request"; id: string }
  | { name: "not-found" };

const STATIC: Record<string, Screen> = {
  "/": { name: "inbox" },
  "/signin": { name: "signin" },
  "/signup": { name: "signup" },
  "/recover": { name: "recover" },
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
