/**
 * The redaction of every log line but the access line: a field named like a secret is replaced with
 * `[redacted]` at any depth. It replaces pino's `redact` with wildcard paths, which re-parsed its paths on
 * every call (~20 µs a line); this walk costs well under a microsecond for the small objects osp
 * logs, and it censors at any depth where the wildcard list stopped at two levels.
 */

/** Field names whose values never reach a log line, wherever they appear. */
export const SECRET_FIELDS: ReadonlySet<string> = new Set([
  "authorization",
  "cookie",
  "x-amz-security-token",
  "secretAccessKey",
  "apiKey",
  "token",
  "accessToken",
  "signature",
  "signingKey",
  "query",
]);

const CENSOR = "[redacted]";

/** Objects nested deeper than this are logged as they are (osp logs flat facts; this bounds a cycle). */
const MAX_DEPTH = 8;

/**
 * `value` itself when it holds no secret field, else a copy with those fields censored (the caller's object
 * is never changed). An Error keeps its class unless a secret is found among its own fields: pino's error
 * serializer then sees a plain object with `type`, `message`, `stack` and those fields.
 */
export function censorSecrets<T extends object>(value: T): T {
  return censor(value, 0) as T;
}

function censor(value: object, depth: number): object {
  let copy: Record<string, unknown> | unknown[] | null = null;
  const record = value as Record<string, unknown>;
  for (const key in record) {
    if (!Object.hasOwn(record, key)) continue;
    const field = record[key];
    let replaced = field;
    if (SECRET_FIELDS.has(key)) {
      if (field !== undefined) replaced = CENSOR;
    } else if (typeof field === "object" && field !== null && depth < MAX_DEPTH) {
      replaced = censor(field, depth + 1);
    }
    if (replaced !== field) {
      copy ??= shallowCopy(value);
      (copy as Record<string, unknown>)[key] = replaced;
    }
  }
  return copy ?? value;
}

/** Enumerable fields, inherited ones included (pino's serialized errors keep `message` on their prototype). */
function shallowCopy(value: object): Record<string, unknown> | unknown[] {
  if (Array.isArray(value)) return value.slice();
  const copy: Record<string, unknown> =
    value instanceof Error ? { type: value.name, message: value.message, stack: value.stack } : {};
  const record = value as Record<string, unknown>;
  for (const key in record) copy[key] = record[key];
  return copy;
}
