/**
 * Typed readers over an environment map that collect problems instead of throwing at the first,
 * so `loadConfig` can report them all at once.
 */
export class EnvReader {
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly problems: string[] = [];

  constructor(env: Readonly<Record<string, string | undefined>>) {
    this.#env = env;
  }

  /** The trimmed value, or undefined when unset or empty. */
  string(name: string): string | undefined {
    const value = this.#env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  }

  has(name: string): boolean {
    return this.string(name) !== undefined;
  }

  oneOf<const T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.string(name);
    if (value === undefined) return fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.problems.push(`${name} must be one of ${allowed.join(", ")}`);
    return fallback;
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.string(name);
    if (value === undefined) return fallback;
    if (value === "true" || value === "1") return true;
    if (value === "false" || value === "0") return false;
    this.problems.push(`${name} must be true or false`);
    return fallback;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.string(name);
    if (value === undefined) return fallback;
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      this.problems.push(`${name} must be an integer from ${min} to ${max}`);
      return fallback;
    }
    return Number(value);
  }

  url(name: string, fallback: string, protocols: readonly string[]): URL {
    const value = this.string(name) ?? fallback;
    try {
      const url = new URL(value);
      if (!protocols.includes(url.protocol)) throw new Error("protocol");
      return url;
    } catch {
      this.problems.push(`${name} must be a URL using ${protocols.join(" or ")}`);
      return new URL(fallback);
    }
  }

  list(name: string): string[] {
    const value = this.string(name);
    if (value === undefined) return [];
    return value
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item !== "");
  }
}
