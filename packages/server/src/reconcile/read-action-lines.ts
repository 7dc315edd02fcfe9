import { open } from "node:fs/promises";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";

/** The actions file could not be opened or read (exit code 2, not a finding). */
export class ActionsFileError extends Error {
  override readonly name = "ActionsFileError";
}

/** The lines of an opened actions file. */
export interface ActionLines {
  readonly lines: AsyncIterable<string>;
  /** Closes the file, whether or not the lines were read to the end. */
  close(): void;
}

/**
 * Streams the lines of the actions file, `-` meaning standard input, without holding the file
 * in memory. LF and CRLF line ends and a leading byte order mark are accepted. Opening fails before any line is read, so a
 * missing file is reported before the database is touched; a read error later ends the
 * iteration with an {@link ActionsFileError}.
 */
export async function openActionLines(path: string, stdin: Readable = process.stdin): Promise<ActionLines> {
  let input: Readable;
  if (path === "-") {
    input = stdin;
  } else {
    try {
      input = (await open(path, "r")).createReadStream({ encoding: "utf8" });
    } catch (error) {
      throw new ActionsFileError(`cannot open ${path}: ${(error as Error).message}`, { cause: error });
    }
  }
  return {
    lines: readLines(input, path === "-" ? "standard input" : path),
    close: () => {
      input.destroy();
    },
  };
}

async function* readLines(input: Readable, name: string): AsyncGenerator<string> {
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    let first = true;
    for await (const line of lines) {
      // A byte order mark, as some Windows tools write, is not part of the first line's JSON.
      yield first ? line.replace(/^\uFEFF/, "") : line;
      first = false;
    }
  } catch (error) {
    throw new ActionsFileError(`cannot read ${name}: ${(error as Error).message}`, { cause: error });
  } finally {
    lines.close();
    input.destroy();
  }
}
