/**
 * How a namespace entry is written in Redis: `V<expiresAtMs>|<refreshAtMs>|<payload>` for a value,
 * `N<expiresAtMs>|<refreshAtMs>|` for a cached negative. The absolute times (nowMs clock) travel with
 * the value so a worker that reads it knows when to refresh it, and how long to keep it in L1 without
 * a second command (PTTL); `refreshAtMs` is empty without refresh-ahead. Redis expires the key itself
 * (PX), the embedded expiry only bounds the copy in L1.
 */

export interface RedisEntry {
  /** The codec's text, or null for a negative. */
  readonly payload: string | null;
  readonly expiresAtMs: number;
  /** Infinity without refresh-ahead. */
  readonly refreshAtMs: number;
}

export function encodeRedisEntry(entry: RedisEntry): string {
  const refresh = entry.refreshAtMs === Number.POSITIVE_INFINITY ? "" : String(Math.round(entry.refreshAtMs));
  const head = `${Math.round(entry.expiresAtMs)}|${refresh}|`;
  return entry.payload === null ? `N${head}` : `V${head}${entry.payload}`;
}

/** The entry, or null when the text is not one (written by something else, or a future format). */
export function decodeRedisEntry(text: string): RedisEntry | null {
  const kind = text.charCodeAt(0);
  if (kind !== 86 /* V */ && kind !== 78 /* N */) return null;
  const bar1 = text.indexOf("|", 1);
  const bar2 = bar1 < 0 ? -1 : text.indexOf("|", bar1 + 1);
  if (bar2 < 0) return null;
  const expiresAtMs = Number(text.slice(1, bar1));
  const refreshText = text.slice(bar1 + 1, bar2);
  const refreshAtMs = refreshText === "" ? Number.POSITIVE_INFINITY : Number(refreshText);
  if (!Number.isFinite(expiresAtMs) || Number.isNaN(refreshAtMs)) return null;
  if (kind === 78) return bar2 === text.length - 1 ? { payload: null, expiresAtMs, refreshAtMs } : null;
  return { payload: text.slice(bar2 + 1), expiresAtMs, refreshAtMs };
}
