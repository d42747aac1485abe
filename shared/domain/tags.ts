import { ALERT_LIMITS } from "./alert";

/**
 * What an issue keeps of the tags its alerts report. Tags are stored as one Table property, which holds
 * at most 32,768 UTF-16 characters, and alerts keep adding new ones; so the merged set is bounded:
 * at most `MAX_KEPT_TAGS` tags and `TAGS_JSON_BUDGET` characters of JSON (room left for nothing else
 * in that property), the newest alert's tags first, then older ones, newest to oldest, while they fit.
 */
export const MAX_KEPT_TAGS = 100;
export const TAGS_JSON_BUDGET = 30_000;

/** `older` in the order they were stored (oldest first); the result is stored in the same order. */
export function mergeTags(older: Record<string, string>, newest: Record<string, string>): Record<string, string> {
  const byAge = [...Object.entries(newest), ...Object.entries(older).reverse()]; // newest first
  const kept = new Map<string, string>();
  let size = 2; // "{}"
  for (const [rawKey, rawValue] of byAge) {
    if (kept.size >= MAX_KEPT_TAGS) break;
    const key = cut(rawKey, ALERT_LIMITS.tagKey);
    if (kept.has(key)) continue;
    const value = cut(String(rawValue), ALERT_LIMITS.tagValue);
    const entrySize = JSON.stringify(key).length + JSON.stringify(value).length + 2; // ":" and ","
    if (size + entrySize > TAGS_JSON_BUDGET) continue;
    kept.set(key, value);
    size += entrySize;
  }
  return Object.fromEntries([...kept].reverse());
}

/** Cuts at a character boundary: never leaves half of a surrogate pair. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = /[\ud800-\udbff]/.test(text[max - 1]!) ? max - 1 : max;
  return text.slice(0, end);
}
