import { signal } from "@preact/signals";

const PREFIX = "#pair=";

/**
 * The link a new device opens (scanned or typed) to join with `code`: the devices screen with the
 * code in the fragment. A fragment is never sent to the server (not in the request line, not in a
 * Referer), so the relay, its request log and any proxy in front of it never learn the code: the
 * point of CPace is that the relay cannot.
 */
export function pairingLink(code: string, origin: string = window.location.origin): string {
  return `${origin}/devices${PREFIX}${code.replace("-", "")}`;
}

/** A pairing code the page was opened with (the QR link), until the pairing form takes it. */
export const linkedPairCode = signal<string | null>(null);

/**
 * Takes a pairing code out of the page's fragment (`#pair=CODE`) and removes it from the address
 * at once with `history.replaceState`, so it stays out of the history, bookmarks and anything that
 * reads the address later. Keeps it in {@link linkedPairCode} for the devices screen.
 *
 * @returns the code, or null when the fragment holds none (the address is then left as it is).
 */
export function takePairCodeFromFragment(win: Pick<Window, "location" | "history"> = window): string | null {
  const hash = win.location.hash;
  if (!hash.startsWith(PREFIX)) return null;
  win.history.replaceState(win.history.state, "", `${win.location.pathname}${win.location.search}`);
  const raw = hash.slice(PREFIX.length);
  let code: string;
  try {
    code = decodeURIComponent(raw);
  } catch {
    code = raw;
  }
  code = code.slice(0, 32);
  linkedPairCode.value = code;
  return code;
}

/** Hands the linked code to the pairing form once: a later visit to the screen starts empty. */
export function consumeLinkedPairCode(): string | null {
  const code = linkedPairCode.value;
  linkedPairCode.value = null;
  return code;
}
