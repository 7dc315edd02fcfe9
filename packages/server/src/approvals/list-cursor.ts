import { CountersignError, fromBase64Url, toBase64Url, utf8 } from "@countersign/protocol";

/** A keyset position in the person's list: strictly older than this (created_at, id). */
export interface ListCursor {
  readonly createdAt: Date;
  readonly id: string;
}

/** Encodes the position after the last row of a page, opaque to the client. */
export function encodeCursor(cursor: ListCursor): string {
  return toBase64Url(utf8(`${cursor.createdAt.toISOString()}|${cursor.id}`));
}

/**
 * Decodes a cursor from the query string.
 *
 * @throws CountersignError `validation_failed` when it is not one we made.
 */
export function decodeCursor(value: string): ListCursor {
  const bytes = fromBase64Url(value);
  const text = bytes === null ? "" : new TextDecoder().decode(bytes);
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)\|(apr_[A-Za-z0-9_-]{22})$/.exec(text);
  const createdAt = match ? new Date(match[1] as string) : null;
  if (match === null || createdAt === null || Number.isNaN(createdAt.getTime())) {
    throw new CountersignError("validation_failed", { message: "The cursor is not valid." });
  }
  return { createdAt, id: match[2] as string };
}
