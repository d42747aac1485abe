import type { Issue } from "../domain/issue";
import type { Release } from "../domain/release-notice";
import { formatTime } from "./view";

/** Everything a release card shows, decided once; each platform's renderer only lays it out (and cuts lists to fit). */
export interface ReleaseView {
  /** "checkout 1.2.4 went out to production" */
  title: string;
  titleUrl?: string;
  /** A personal notice's first line: why this person gets it. */
  intro?: string;
  facts: { label: string; value: string }[];
  lists: ReleaseList[];
}

export interface ReleaseList {
  /** "Resolved in this release (3)" */
  heading: string;
  /** Shown when the list is empty. */
  empty: string;
  items: ReleaseItem[];
  /** Items left out of `items` (the renderers leave out more to fit their platform, and add to this). */
  more: number;
}

export interface ReleaseItem {
  /** "CHECKOUT-12" */
  shortId?: string;
  title: string;
  url?: string;
  /** "error · 1,204 events" */
  detail: string;
}

/** Items a list keeps before renderers fit them to their platform; the rest are counted in `more`. */
export const MAX_RELEASE_ITEMS = 25;

export interface ReleaseContent {
  release: Release;
  /** Resolved in this release, newest change first. */
  resolved: Issue[];
  /** Open regressions since the previous release. */
  regressions: Issue[];
  /** The release the project reported before this one, if any. */
  previous?: string;
}

export function buildReleaseView(content: ReleaseContent, options: { personal?: boolean } = {}): ReleaseView {
  const { release } = content;
  const where = release.environment ? ` to ${release.environment}` : "";
  const facts: ReleaseView["facts"] = [
    { label: "Project", value: release.project },
    { label: "Version", value: release.version },
  ];
  if (release.environment) facts.push({ label: "Environment", value: release.environment });
  if (release.deployedAt) facts.push({ label: "Deployed", value: formatTime(release.deployedAt) });
  if (content.previous) facts.push({ label: "Previous release", value: content.previous });
  return {
    title: `${release.project} ${release.version} went out${where}`,
    titleUrl: release.url,
    intro: options.personal ? `You are named in this release of ${release.project}.` : undefined,
    facts,
    lists: [
      list(`Resolved in this release (${content.resolved.length})`, "No issue was resolved in this release.", content.resolved),
      list(
        `Open regressions since ${content.previous ?? "earlier releases"} (${content.regressions.length})`,
        "No open regressions.",
        content.regressions,
      ),
    ],
  };
}

function list(heading: string, empty: string, issues: Issue[]): ReleaseList {
  const items = issues.slice(0, MAX_RELEASE_ITEMS).map(
    (issue): ReleaseItem => ({
      ...(issue.shortId ? { shortId: issue.shortId } : {}),
      title: issue.title,
      ...(issue.url ? { url: issue.url } : {}),
      detail: `${issue.level} · ${issue.count.toLocaleString("en-US")} events`,
    }),
  );
  return { heading, empty, items, more: issues.length - items.length };
}

/** One line of text for notifications and screen readers. */
export function releaseSummary(view: ReleaseView): string {
  const counts = view.lists.map((l) => l.heading).join(", ");
  return `${view.title}: ${counts}`;
}
