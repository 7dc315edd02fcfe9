/** The languages the app speaks. */
export const LANGUAGES = [
  { code: "en", name: "English" },
  { code: "ko", name: "한국어" },
  { code: "ja", name: "日本語" },
] as const;

/** A language code. */
export type Lang = (typeof LANGUAGES)[number]["code"];

/** The first of the browser's preferred languages (BCP 47 tags) the app speaks, else English. */
export function browserLang(preferred: readonly string[]): Lang {
  for (const tag of preferred) {
    const base = tag.toLowerCase().split("-")[0];
    if (base === "en" || base === "ko" || base === "ja") return base;
  }
  return "en";
}
