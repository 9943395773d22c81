/**
 * Durations in the config are written `250ms`, `10s`, `15m`, `1h`, `7d`, or as a plain number of
 * milliseconds. Everything inside osp works in milliseconds (`…Ms` names).
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses a duration to milliseconds; `null` when the text is not a duration. */
export function parseDurationMs(value: string | number): number | null {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : null;
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(value.trim());
  if (match === null) return null;
  return Math.round(Number(match[1]) * UNIT_MS[match[2]!]!);
}
