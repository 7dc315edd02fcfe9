/** One `countersign` command: a name (possibly two words), a help line, and what it runs. */
export interface CliCommand {
  /** e.g. `serve` or `audit verify` */
  readonly name: string;
  /** One line for `countersign --help`; the first word of `usage` is the command itself. */
  readonly usage: string;
  readonly summary: string;
  /**
   * Runs the command with the arguments after its name and the process environment (passed to
   * `loadConfig`, never read elsewhere). Resolves to the exit code: 0 done, 1 failure,
   * 2 usage error.
   */
  run(args: readonly string[], env: Readonly<Record<string, string | undefined>>): Promise<number>;
}
