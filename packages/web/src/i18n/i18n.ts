import { signal } from "@preact/signals";
import { browserLang, type Lang } from "./browser-lang.ts";
import { EN, type StringKey } from "./strings-en.ts";
import { JA } from "./strings-ja.ts";
import { KO } from "./strings-ko.ts";

export { LANGUAGES, type Lang } from "./browser-lang.ts";

const TABLES: Record<Lang, Record<StringKey, string>> = { en: EN, ko: KO, ja: JA };
const STORAGE_KEY = "countersign.lang";

function initialLang(): Lang {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved === "en" || saved === "ko" || saved === "ja") return saved;
  } catch {
    // Storage can be off (private modes); the browser's language still applies.
  }
  return browserLang(navigator.languages ?? [navigator.language]);
}

/** The current language; screens re-render when it changes. */
export const lang = signal<Lang>(initialLang());
document.documentElement.lang = lang.value;

/** Switches the language and remembers the choice on this device. */
export function setLang(next: Lang): void {
  lang.value = next;
  document.documentElement.lang = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // Not remembered; the switch still applies to this visit.
  }
}

/** The string `key` in the current language, with `{name}` placeholders filled from `vars`. */
export function t(key: StringKey, vars: Record<string, string | number> = {}): string {
  const text = TABLES[lang.value][key] ?? EN[key];
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

/** A date and time in the current language, e.g. for "Expires at". */
export function formatDateTime(iso: string | null): string {
  if (iso === null) return t("common.never");
  return new Intl.DateTimeFormat(lang.value, { dateStyle: "medium", timeStyle: "medium" }).format(new Date(iso));
}

/** A short remaining time: "4:05", "59 s" style, language-neutral digits. */
export function formatRemaining(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  return `${minutes}:${String(seconds).padStart(2, "0")}`;
}
