// RFC 3339 date-time (ISO-8601 profile): a time zone is required, so that a log written in one
// zone reconciles the same everywhere. Fractions are cut to milliseconds, as Date keeps them.
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * Parses an RFC 3339 date-time with a time zone (`2026-11-21T12:03:04Z`,
 * `2026-11-21T13:03:04.250+01:00`) to milliseconds since the epoch; undefined for anything else,
 * including dates that do not exist (`2026-02-30`).
 */
export function parseInstant(text: string): number | undefined {
  const match = DATE_TIME.exec(text);
  if (match === null) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (!validDate(year, month, day) || hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = Number((match[7] ?? "").padEnd(3, "0").slice(0, 3));
  const zone = (match[8] as string).toUpperCase();
  const offsetMinutes =
    zone === "Z" ? 0 : (zone[0] === "-" ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  return Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMinutes * 60_000;
}

/**
 * Like {@link parseInstant}, and also a bare date (`2026-11-21`), read as midnight UTC: what
 * `--since` and `--until` accept.
 */
export function parseInstantOrDate(text: string): number | undefined {
  const match = DATE_ONLY.exec(text);
  if (match === null) return parseInstant(text);
  const [year, month, day] = match.slice(1, 4).map(Number) as [number, number, number];
  if (!validDate(year, month, day)) return undefined;
  return Date.UTC(year, month - 1, day);
}

function validDate(year: number, month: number, day: number): boolean {
  if (year < 1970 || month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}
