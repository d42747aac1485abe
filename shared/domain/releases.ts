import type { Issue, ReleaseRegression, ReleaseResolution } from "./issue";

/** The tag an alert names its release with. */
export const RELEASE_TAG = "release";

/** A release a project has reported, and when it was first reported. */
export interface KnownRelease {
  version: string;
  /** ISO time of the earliest alert that carried it. */
  firstSeen: string;
}

/**
 * A project's releases, earliest first, in the order they compare: the order the project first reported
 * them, except that releases which both parse as versions of the same package are always in version order
 * (a backport 8.0.1 reported after 8.1 still comes before it). Built only by `recordRelease`, which keeps
 * that invariant; it is what makes `compareReleases` transitive when version and report order disagree.
 */
export type KnownReleases = readonly KnownRelease[];

/**
 * Stored as one Table property (at most 32,768 UTF-16 characters) like an issue's tags: at most
 * `MAX_KNOWN_RELEASES` releases and `KNOWN_RELEASES_JSON_BUDGET` characters of JSON. The earliest
 * reported are forgotten first; a forgotten release compares as unknown.
 */
export const MAX_KNOWN_RELEASES = 200;
export const KNOWN_RELEASES_JSON_BUDGET = 30_000;

/** A release name read as a version: `[package@][v]1.2[.3[.4]][-pre.release][+build]`. */
export interface ParsedVersion {
  package: string;
  /** Major, minor, patch, revision as digit strings without leading zeros; missing ones are "0". */
  numbers: [string, string, string, string];
  prerelease: string[];
  build?: string;
}

const VERSION_PATTERN = /^(?:(@?[^@\s]+)@)?v?(\d+(?:\.\d+){1,3})(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;
const DIGITS = /^\d+$/;

/**
 * Reads a release name as a version, or undefined. At least major.minor is required: a lone number
 * ("1042", or a short commit hash that happens to be all digits) is ordered by when it was reported.
 * Leading zeros are allowed (calendar versions such as 2026.01.15), as in Sentry's release parser.
 */
export function parseVersion(release: string): ParsedVersion | undefined {
  const match = VERSION_PATTERN.exec(release);
  if (!match) return undefined;
  const [, pkg, core, pre, build] = match;
  const parts = core!.split(".").map(withoutLeadingZeros);
  while (parts.length < 4) parts.push("0");
  return {
    package: pkg ?? "",
    numbers: parts as ParsedVersion["numbers"],
    prerelease: pre ? pre.split(".") : [],
    ...(build ? { build } : {}),
  };
}

/**
 * Version order: major, minor, patch, revision; a pre-release before its release, pre-release
 * identifiers as in semver 2.0.0 §11; then the build, as Sentry's `compare_version` orders it
 * (none, then numeric by value, then alphanumeric by text). 0 means the same version written two ways
 * ("v1.2.3" and "1.2.3.0"). Versions of different packages are not compared here (see `compareReleases`).
 */
export function compareVersions(a: ParsedVersion, b: ParsedVersion): number {
  for (let i = 0; i < 4; i++) {
    const byNumber = compareDigits(a.numbers[i]!, b.numbers[i]!);
    if (byNumber) return byNumber;
  }
  return comparePrereleases(a.prerelease, b.prerelease) || compareBuilds(a.build, b.build);
}

function comparePrereleases(a: string[], b: string[]): number {
  if (!a.length || !b.length) return Math.sign(b.length - a.length); // a release after its pre-releases
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const byIdentifier = compareIdentifiers(a[i]!, b[i]!);
    if (byIdentifier) return byIdentifier;
  }
  return Math.sign(a.length - b.length);
}

function compareBuilds(a: string | undefined, b: string | undefined): number {
  const rank = (build: string | undefined) => (build === undefined ? 0 : DIGITS.test(build) ? 1 : 2);
  const byRank = rank(a) - rank(b);
  if (byRank || a === undefined || b === undefined) return Math.sign(byRank);
  return DIGITS.test(a) ? compareDigits(withoutLeadingZeros(a), withoutLeadingZeros(b)) : compareText(a, b);
}

function compareIdentifiers(a: string, b: string): number {
  const aNumeric = DIGITS.test(a);
  const bNumeric = DIGITS.test(b);
  if (aNumeric && bNumeric) return compareDigits(withoutLeadingZeros(a), withoutLeadingZeros(b));
  if (aNumeric !== bNumeric) return aNumeric ? -1 : 1;
  return compareText(a, b);
}

/** Digit strings of any length, without leading zeros: no precision lost to Number. */
function compareDigits(a: string, b: string): number {
  return Math.sign(a.length - b.length) || compareText(a, b);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function withoutLeadingZeros(digits: string): string {
  return digits.replace(/^0+(?=\d)/, "");
}

/** Both are versions of the same package: compared as versions, whatever order they were reported in. */
function versionsOfOnePackage(a: string, b: string): [ParsedVersion, ParsedVersion] | undefined {
  const parsedA = parseVersion(a);
  const parsedB = parseVersion(b);
  return parsedA && parsedB && parsedA.package === parsedB.package ? [parsedA, parsedB] : undefined;
}

/**
 * Where `a` stands relative to `b`: negative before, 0 the same release, positive after; undefined when
 * that cannot be known (not both versions of one package, and one of them is not among `known`).
 * Antisymmetric and transitive wherever defined (test/unit/domain/releases.test.ts).
 */
export function compareReleases(known: KnownReleases, a: string, b: string): number | undefined {
  if (a === b) return 0;
  const versions = versionsOfOnePackage(a, b);
  if (versions) return compareVersions(...versions);
  const positionA = known.findIndex((r) => r.version === a);
  const positionB = known.findIndex((r) => r.version === b);
  if (positionA < 0 || positionB < 0) return undefined;
  return Math.sign(positionA - positionB);
}

/**
 * The project's releases with `version` reported at `at`. A release already known keeps its place (its
 * first-seen time may move earlier); a new one goes last, or, if it is a version, just before the first
 * later version of its package (right after a release that is the same version written differently).
 * Returns `known` itself when nothing changed, so the caller knows there is nothing to store.
 */
export function recordRelease(known: KnownReleases, version: string, at: Date | string): KnownReleases {
  if (!version) return known;
  const seen = typeof at === "string" ? at : at.toISOString();
  const existing = known.findIndex((r) => r.version === version);
  if (existing >= 0) {
    if (Date.parse(seen) >= Date.parse(known[existing]!.firstSeen)) return known;
    return known.map((r, i) => (i === existing ? { ...r, firstSeen: seen } : r));
  }
  const entry: KnownRelease = { version, firstSeen: seen };
  const position = insertionIndex(known, version);
  return withinBounds([...known.slice(0, position), entry, ...known.slice(position)], entry);
}

function insertionIndex(known: KnownReleases, version: string): number {
  if (!parseVersion(version)) return known.length;
  let firstLater = known.length;
  for (let i = known.length - 1; i >= 0; i--) {
    const versions = versionsOfOnePackage(known[i]!.version, version);
    if (!versions) continue;
    const order = compareVersions(...versions);
    if (order === 0) return i + 1;
    if (order > 0) firstLater = i;
  }
  return firstLater;
}

/** Forgets the earliest reported releases (never `keep`, the one just recorded) until the list fits. */
function withinBounds(releases: KnownRelease[], keep: KnownRelease): KnownRelease[] {
  while (releases.length > MAX_KNOWN_RELEASES || JSON.stringify(releases).length > KNOWN_RELEASES_JSON_BUDGET) {
    let earliest = -1;
    releases.forEach((r, i) => {
      if (r === keep) return;
      if (earliest < 0 || Date.parse(r.firstSeen) < Date.parse(releases[earliest]!.firstSeen)) earliest = i;
    });
    if (earliest < 0) break;
    releases.splice(earliest, 1);
  }
  return releases;
}

/** The release named by an alert's tags (or an issue's: its latest alert's). */
export function releaseOf(tags: Record<string, string>): string | undefined {
  return tags[RELEASE_TAG] || undefined;
}

/**
 * Whether an alert from `firedIn` reopens an issue resolved in a release, as Sentry's
 * `GroupResolution.has_resolution` decides it; the regression when it does, undefined when it stays resolved:
 * - in the next release (after R): alerts from R or earlier don't; from a later release they do;
 * - in the current release (R): alerts from earlier releases don't; from R itself (the fix did not work)
 *   or later they do;
 * - an alert with no release doesn't: releases were only set up after it was built, so it is older.
 * When the order cannot be known (a release the project never reported, or forgot) the alert reopens the
 * issue: a regression is seen and can be resolved again; an issue silently kept resolved is not seen.
 */
export function releaseRegression(resolution: ReleaseResolution, firedIn: string | undefined, known: KnownReleases): ReleaseRegression | undefined {
  if (!firedIn) return undefined;
  const order = compareReleases(known, firedIn, resolution.release);
  if (order === undefined) return { firedIn, resolution, orderUnknown: true };
  const reopens = resolution.inRelease === "next" ? order > 0 : order >= 0;
  return reopens ? { firedIn, resolution } : undefined;
}

/**
 * The longest release the labels below show whole. A build tag can run to hundreds of characters; shown whole it
 * would push what follows it ("by Ana · 14:02 UTC", "resolved in …") past the 300 characters a card line keeps.
 * At 50, a regression naming four releases still fits in 300.
 */
export const RELEASE_LABEL_MAX = 50;

// Built on first long release: constructing a Segmenter loads ICU break data.
let graphemes: Intl.Segmenter | undefined;

/** A release within RELEASE_LABEL_MAX characters, cut in the middle (its start and its build suffix both tell releases apart). */
function shownRelease(release: string): string {
  if (release.length <= RELEASE_LABEL_MAX) return release;
  graphemes ??= new Intl.Segmenter(undefined, { granularity: "grapheme" });
  const pieces = Array.from(graphemes.segment(release), ({ segment }) => segment);
  const room = RELEASE_LABEL_MAX - "…".length;
  let head = "";
  let tail = "";
  let first = 0;
  let last = pieces.length - 1;
  while (first < last && head.length + pieces[first]!.length <= Math.ceil(room / 2)) head += pieces[first++];
  while (last >= first && head.length + tail.length + pieces[last]!.length <= room) tail = pieces[last--] + tail;
  return `${head}…${tail}`;
}

/** "in the next release (after 1.2.3)", "in the current release (1.2.3)". */
export function describeResolution(resolution: ReleaseResolution): string {
  const release = shownRelease(resolution.release);
  return resolution.inRelease === "next" ? `in the next release (after ${release})` : `in the current release (${release})`;
}

/** Why a regressed issue reopened: "fired in 1.2.4, resolved in the next release after 1.2.3". */
export function describeRegression({ firedIn, resolution, orderUnknown }: ReleaseRegression): string {
  const release = shownRelease(resolution.release);
  const fired = shownRelease(firedIn);
  const resolved = resolution.inRelease === "next" ? `resolved in the next release after ${release}` : `resolved in the current release ${release}`;
  const unknown = orderUnknown ? ` (${fired} is not known to come before ${release})` : "";
  return `fired in ${fired}${unknown}, ${resolved}`;
}

/** The card's words for a resolved issue: "Resolved in the next release (after 1.2.3)", or "Resolved". */
export function resolutionLabel(issue: Issue): string | undefined {
  if (issue.status !== "resolved") return undefined;
  return issue.resolution ? `Resolved ${describeResolution(issue.resolution)}` : "Resolved";
}

/** The card's words for a regressed issue: "Regressed: fired in 1.2.4, resolved in the next release after 1.2.3". */
export function regressionLabel(issue: Issue): string | undefined {
  if (issue.status !== "unresolved" || issue.substatus !== "regressed") return undefined;
  return issue.regression ? `Regressed: ${describeRegression(issue.regression)}` : "Regressed: fired again after being resolved";
}
