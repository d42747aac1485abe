import { z } from "zod";
import { claimedKind } from "./queue-message";
import { ALERT_LIMITS, MAX_ALERT_JSON_BYTES, schemaProblems, type SchemaProblem } from "./alert";
import { ID_LIMITS, isPrintableText, isProjectName, PROJECT_NAME_RULE } from "./ids";
import type { Issue } from "./issue";
import { compareReleases, type KnownReleases } from "./releases";

export const RELEASE_LIMITS = {
  version: 200,
  people: 50,
} as const;

const text = (max: number) => z.string().trim().min(1).max(max);

/**
 * The third message kind on the `alerts` queue: a release went out (README, "Release notices"). It posts a
 * release card to the project's subscribed conversations and a personal notice to each person named who is
 * linked on a platform.
 */
export const releaseMessageSchema = z.object({
  schemaVersion: z.literal(1),
  kind: z.literal("release"),
  release: z.object({
    project: text(ID_LIMITS.project).refine(isProjectName, PROJECT_NAME_RULE),
    version: text(RELEASE_LIMITS.version).refine(isPrintableText, "no control characters or unpaired surrogates"),
    environment: z.string().max(ALERT_LIMITS.environment).optional(),
    url: z
      .url({ protocol: /^https?$/ })
      .max(ALERT_LIMITS.url)
      .optional(),
    deployedAt: z.iso.datetime({ offset: true }).optional(),
    people: z
      .array(
        z
          .email()
          .max(ALERT_LIMITS.email)
          .transform((email) => email.toLowerCase()),
      )
      .max(RELEASE_LIMITS.people)
      .default([]),
  }),
});
export type ReleaseMessage = z.infer<typeof releaseMessageSchema>;
export type Release = ReleaseMessage["release"];

/** Whether a queue message claims to be a release (it is then validated as one, never as an alert). */
export function isReleaseMessage(message: unknown): boolean {
  return claimedKind(message) === "release";
}

export type ReleaseParseResult = { ok: true; message: ReleaseMessage } | { ok: false; error: string; issues: SchemaProblem[] };

export function parseReleaseMessage(message: unknown): ReleaseParseResult {
  let input = message;
  if (typeof message === "string") {
    if (Buffer.byteLength(message) > MAX_ALERT_JSON_BYTES) {
      return {
        ok: false,
        error: "The message is larger than a release can be.",
        issues: [{ path: "", message: `at most ${MAX_ALERT_JSON_BYTES} bytes of JSON` }],
      };
    }
    try {
      input = JSON.parse(message);
    } catch {
      return { ok: false, error: "The message is not JSON.", issues: [{ path: "", message: "expected a JSON object" }] };
    }
  }
  const result = releaseMessageSchema.safeParse(input);
  if (result.success) return { ok: true, message: result.data };
  return { ok: false, error: "The message does not match the release message schema v1.", issues: schemaProblems(result.error) };
}

/**
 * Whether `issue` is resolved in `version`: resolved in the current release `version` itself, or in the next
 * release after R where `version` is the first release the project reported after R.
 */
export function resolvedInRelease(issue: Issue, version: string, known: KnownReleases): boolean {
  const resolution = issue.status === "resolved" ? issue.resolution : undefined;
  if (!resolution) return false;
  const order = compareReleases(known, version, resolution.release);
  if (order === undefined) return false;
  if (resolution.inRelease === "current") return order === 0;
  if (order <= 0) return false;
  // A release between R and this one shipped the fix first.
  return !known.some(
    (r) => (compareReleases(known, r.version, resolution.release) ?? 0) > 0 && (compareReleases(known, r.version, version) ?? 0) < 0,
  );
}

/** The release the project reported just before `version`, in the order releases compare. */
export function previousRelease(known: KnownReleases, version: string) {
  let previous: KnownReleases[number] | undefined;
  for (const release of known) {
    const order = compareReleases(known, release.version, version);
    if (order === undefined || order >= 0) continue;
    if (!previous || (compareReleases(known, release.version, previous.version) ?? 0) > 0) previous = release;
  }
  return previous;
}

/**
 * Whether `issue` is an open regression since the release before `version` was first reported (every open
 * regression when the project reported no earlier release): what is still broken as this release goes out.
 */
export function openRegressionSince(issue: Issue, version: string, known: KnownReleases): boolean {
  if (issue.status !== "unresolved" || issue.substatus !== "regressed") return false;
  const since = previousRelease(known, version)?.firstSeen;
  if (!since) return true;
  const regressedAt = issue.statusChangedAt ?? issue.lastSeen;
  return Date.parse(regressedAt) >= Date.parse(since);
}
