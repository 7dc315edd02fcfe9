/**
 * Thrown by `loadConfig` with every problem found, so an operator fixes them in one pass.
 * Messages name the variable, never its value: values may be secrets.
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly problems: readonly string[];

  constructor(problems: readonly string[], options?: { cause?: unknown }) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`, options);
    this.problems = problems;
  }
}
