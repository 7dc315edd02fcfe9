/**
 * Quotes an SQL identifier (a channel, database or table name) so it is used exactly as given,
 * case included. Refuses names PostgreSQL would silently truncate or cannot store.
 *
 * @example
 * ```ts
 * quoteIdentifier('approval "events"'); // "approval ""events"""
 * ```
 */
export function quoteIdentifier(name: string): string {
  if (name.length === 0 || name.includes("\0")) {
    throw new Error(`invalid SQL identifier ${JSON.stringify(name)}: it must be non-empty and contain no NUL`);
  }
  // NAMEDATALEN - 1: longer names are truncated, so LISTEN and pg_notify would disagree.
  if (new TextEncoder().encode(name).length > 63) {
    throw new Error(`invalid SQL identifier ${JSON.stringify(name)}: longer than 63 bytes`);
  }
  return `"${name.replaceAll('"', '""')}"`;
}
