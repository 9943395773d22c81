/**
 * The date formats of SigV4 (docs/s3-sigv4.md "Dates, scope and clock skew"): `x-amz-date` / `X-Amz-Date`
 * (`yyyyMMdd'T'HHmmss'Z'`), the HTTP `Date` header (IMF-fixdate), and the ISO 8601 form S3 puts in
 * `ServerTime`/`Expires` error fields. Parsers are strict and allocation-free: anything else is "no valid
 * date".
 */

function digits(text: string, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const d = text.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** ms since the epoch of a UTC calendar time, or `null` when a field is out of range (no rollover). */
function utcMs(year: number, month: number, day: number, hour: number, minute: number, second: number) {
  // Years before 1970 are refused: no request is that old, and Date.UTC maps years 0-99 to 1900-1999.
  if (year < 1970 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23) return null;
  if (minute < 0 || minute > 59 || second < 0 || second > 59) return null;
  // 31 April or 29 February of a common year would roll over into the next month: refuse them.
  if (day > DAYS_IN_MONTH[month - 1]! + (month === 2 && isLeapYear(year) ? 1 : 0)) return null;
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

/** Parses `yyyyMMdd'T'HHmmss'Z'` (e.g. `20130524T000000Z`) to ms since the epoch; `null` if malformed. */
export function parseAmzDate(text: string): number | null {
  if (text.length !== 16 || text.charCodeAt(8) !== 0x54 || text.charCodeAt(15) !== 0x5a) return null;
  return utcMs(
    digits(text, 0, 4),
    digits(text, 4, 2),
    digits(text, 6, 2),
    digits(text, 9, 2),
    digits(text, 11, 2),
    digits(text, 13, 2),
  );
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

/** Formats ms since the epoch as `yyyyMMdd'T'HHmmss'Z'` (whole seconds, UTC). */
export function formatAmzDate(ms: number): string {
  const d = new Date(ms);
  return (
    `${d.getUTCFullYear()}${pad2(d.getUTCMonth() + 1)}${pad2(d.getUTCDate())}` +
    `T${pad2(d.getUTCHours())}${pad2(d.getUTCMinutes())}${pad2(d.getUTCSeconds())}Z`
  );
}

/** Formats ms since the epoch as ISO 8601 without fractions (`2013-05-24T00:00:00Z`), as S3's error fields. */
export function formatIsoSeconds(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * Parses an HTTP `Date` in IMF-fixdate form (`Fri, 24 May 2013 00:00:00 GMT`, RFC 9110 §5.6.7), the only
 * form current clients send, to ms since the epoch; `null` otherwise. The weekday is not cross-checked.
 */
export function parseHttpDate(text: string): number | null {
  if (text.length !== 29 || text.charCodeAt(3) !== 0x2c || !text.endsWith(" GMT")) return null;
  if (text[4] !== " " || text[7] !== " " || text[11] !== " " || text[16] !== " ") return null;
  if (text[19] !== ":" || text[22] !== ":") return null;
  const month = MONTHS.indexOf(text.slice(8, 11)) + 1;
  if (month === 0) return null;
  return utcMs(
    digits(text, 12, 4),
    month,
    digits(text, 5, 2),
    digits(text, 17, 2),
    digits(text, 20, 2),
    digits(text, 23, 2),
  );
}

/**
 * A SigV2 `Date` or `x-amz-date` ("one of the RFC 2616 formats", RESTAuthentication): IMF-fixdate with `GMT`,
 * or with the `+0000` zone the AWS examples and s3cmd write (`Tue, 27 Mar 2007 19:36:42 +0000`). `null`
 * otherwise (the obsolete RFC 850 and asctime forms are not accepted).
 */
export function parseV2Date(text: string): number | null {
  if (text.length === 31 && text.endsWith(" +0000")) return parseHttpDate(`${text.slice(0, 25)} GMT`);
  return parseHttpDate(text);
}
