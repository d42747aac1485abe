import type { Alert } from "../domain/alert";
import { isReleaseMessage, type ReleaseMessage } from "../domain/release-notice";
import { withOptions, type IngestOptions, type Normalized } from "./common";

/**
 * `/api/ingest/alerts`: one schema-v1 alert or release message, or an array of up to 100, validated afterwards
 * exactly as the queue validates them. `?project=` fills in a missing project; `?target=` replaces an alert's
 * targets (a release goes to the project's subscribed conversations and the people it names).
 */
export function normalizeAlerts(payload: unknown, options: IngestOptions = {}): Normalized {
  const items = Array.isArray(payload) ? payload : [payload];
  if (items.length === 0 || items.length > 100) {
    return { ok: false, error: "Send one alert or an array of 1 to 100 alerts.", issues: [{ path: "", message: `got ${items.length} alerts` }] };
  }
  if (items.some((item) => typeof item !== "object" || item === null || Array.isArray(item))) {
    return { ok: false, error: "Every alert must be a JSON object.", issues: [{ path: "", message: "expected an object" }] };
  }
  return {
    ok: true,
    messages: (items as Alert[]).map((alert) => {
      if (isReleaseMessage(alert)) return releaseWithProject(alert as unknown as ReleaseMessage, options);
      const reported = (alert.issue as unknown as Record<string, unknown> | undefined)?.project;
      return withOptions(alert, options, typeof reported === "string" ? reported : undefined);
    }),
  };
}

function releaseWithProject(message: ReleaseMessage, options: IngestOptions): ReleaseMessage {
  const release = message.release as ReleaseMessage["release"] | undefined;
  if (!options.project || typeof release !== "object" || release === null || release.project !== undefined) return message;
  return { ...message, release: { ...release, project: options.project } };
}
