import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyAction, type IssueAction } from "../../../shared/domain/actions";
import { applyAlert } from "../../../shared/domain/intake";
import type { Issue } from "../../../shared/domain/issue";
import {
  compareReleases,
  compareVersions,
  KNOWN_RELEASES_JSON_BUDGET,
  MAX_KNOWN_RELEASES,
  parseVersion,
  recordRelease,
  regressionLabel,
  resolutionLabel,
  type KnownReleases,
} from "../../../shared/domain/releases";
import { ana, anAlert, anIssue, NOW } from "../../fixtures/issues";

/** Releases reported in this order, a minute apart. */
function reportedInOrder(...versions: string[]): KnownReleases {
  return versions.reduce<KnownReleases>((known, version, i) => recordRelease(known, version, new Date(Date.UTC(2026, 10, 1, 0, i))), []);
}

function versionOrder(a: string, b: string): number {
  const [parsedA, parsedB] = [parseVersion(a), parseVersion(b)];
  if (!parsedA || !parsedB) throw new Error(`not versions: ${a}, ${b}`);
  return compareVersions(parsedA, parsedB);
}

describe("parseVersion", () => {
  it.each([
    ["1.2.3", { package: "", numbers: ["1", "2", "3", "0"], prerelease: [] }],
    ["v1.2.3", { package: "", numbers: ["1", "2", "3", "0"], prerelease: [] }],
    ["1.2", { package: "", numbers: ["1", "2", "0", "0"], prerelease: [] }],
    ["1.2.3.4", { package: "", numbers: ["1", "2", "3", "4"], prerelease: [] }],
    ["2026.01.15", { package: "", numbers: ["2026", "1", "15", "0"], prerelease: [] }],
    ["checkout@1.2.3-rc.1+45", { package: "checkout", numbers: ["1", "2", "3", "0"], prerelease: ["rc", "1"], build: "45" }],
    ["@contoso/web@2.0.0", { package: "@contoso/web", numbers: ["2", "0", "0", "0"], prerelease: [] }],
  ])("reads %s", (release, parsed) => {
    expect(parseVersion(release)).toEqual(parsed);
  });

  it.each(["1042", "a1b2c3d", "1.2.3.4.5", "1.2.3-", "1.2.3+", "release-2026-11-21", "1.2.x", " 1.2.3", "latest", ""])(
    "does not read %j as a version",
    (release) => {
      expect(parseVersion(release)).toBeUndefined();
    },
  );
});

describe("compareVersions", () => {
  it("orders semver 2.0.0's precedence example", () => {
    const ordered = [
      "1.0.0-alpha",
      "1.0.0-alpha.1",
      "1.0.0-alpha.beta",
      "1.0.0-beta",
      "1.0.0-beta.2",
      "1.0.0-beta.11",
      "1.0.0-rc.1",
      "1.0.0",
      "1.0.1",
      "1.1.0",
      "2.0.0",
    ];
    for (let i = 0; i < ordered.length - 1; i++) {
      expect(versionOrder(ordered[i]!, ordered[i + 1]!), `${ordered[i]} < ${ordered[i + 1]}`).toBeLessThan(0);
      expect(versionOrder(ordered[i + 1]!, ordered[i]!)).toBeGreaterThan(0);
    }
  });

  it.each([
    ["1.2.9", "1.2.10"], // numbers, not text
    ["388.0.6", "388.0.8"], // getsentry/sentry#74448 got this one backwards
    ["1.9", "1.10.0"],
    ["99999999999999999998.0", "99999999999999999999.0"], // beyond Number precision
    ["1.2.3.4", "1.2.3.5"],
    ["1.0.0", "1.0.0+9"], // builds as Sentry's compare_version: none, numeric, alphanumeric
    ["1.0.0+9", "1.0.0+10"],
    ["1.0.0+10", "1.0.0+abc"],
    ["1.0.0+abc", "1.0.0+abd"],
  ])("%s comes before %s", (earlier, later) => {
    expect(versionOrder(earlier, later)).toBeLessThan(0);
    expect(versionOrder(later, earlier)).toBeGreaterThan(0);
  });

  it.each([
    ["1.2.3", "v1.2.3"],
    ["1.2", "1.2.0"],
    ["1.2.3", "1.2.3.0"],
    ["01.2.3", "1.2.3"],
    ["1.0.0-rc.01", "1.0.0-rc.1"],
  ])("%s and %s are the same version", (a, b) => {
    expect(versionOrder(a, b)).toBe(0);
  });
});

describe("compareReleases", () => {
  it("orders versions by version, whatever order they were reported in (a backport after a later release)", () => {
    // The sentry-regressions plugin exists because Sentry's date ordering puts 8.0.1 after 8.1 here.
    const known = reportedInOrder("8.0", "8.1", "8.0.1");
    expect(compareReleases(known, "8.0.1", "8.1")).toBeLessThan(0);
    expect(compareReleases(known, "8.0.1", "8.0")).toBeGreaterThan(0);
  });

  it("orders other releases by when the project first reported them, not by their names", () => {
    const known = reportedInOrder("e4f5a6b", "a1b2c3d", "release-7");
    expect(compareReleases(known, "e4f5a6b", "a1b2c3d")).toBeLessThan(0);
    expect(compareReleases(known, "release-7", "a1b2c3d")).toBeGreaterThan(0);
    // Reported again later: still where it was first reported.
    const again = recordRelease(known, "e4f5a6b", "2026-11-30T00:00:00.000Z");
    expect(compareReleases(again, "e4f5a6b", "release-7")).toBeLessThan(0);
  });

  it("orders versions of different packages, and a version against a name, by when they were reported", () => {
    const known = reportedInOrder("web@2.0.0", "api@1.0.0", "a1b2c3d", "web@2.1.0");
    expect(compareReleases(known, "api@1.0.0", "web@2.0.0")).toBeGreaterThan(0);
    expect(compareReleases(known, "a1b2c3d", "web@2.1.0")).toBeLessThan(0);
    expect(compareReleases(known, "web@2.1.0", "web@2.0.0")).toBeGreaterThan(0);
  });

  it("a new version goes just before the first later version of its package, after the names reported before it", () => {
    const known = reportedInOrder("1.0.0", "a1b2c3d", "2.0.0", "e4f5a6b", "1.5.0");
    expect(known.map((r) => r.version)).toEqual(["1.0.0", "a1b2c3d", "1.5.0", "2.0.0", "e4f5a6b"]);
    expect(compareReleases(known, "1.5.0", "a1b2c3d")).toBeGreaterThan(0);
    expect(compareReleases(known, "1.5.0", "e4f5a6b")).toBeLessThan(0);
  });

  it("the same version written another way goes right beside it", () => {
    const known = reportedInOrder("1.2.3", "a1b2c3d", "v1.2.3");
    expect(known.map((r) => r.version)).toEqual(["1.2.3", "v1.2.3", "a1b2c3d"]);
    expect(compareReleases(known, "v1.2.3", "1.2.3")).toBe(0);
    expect(compareReleases(known, "v1.2.3", "a1b2c3d")).toBeLessThan(0);
  });

  it("cannot order a release the project never reported, unless both are versions of one package", () => {
    const known = reportedInOrder("a1b2c3d");
    expect(compareReleases(known, "a1b2c3d", "e4f5a6b")).toBeUndefined();
    expect(compareReleases(known, "e4f5a6b", "a1b2c3d")).toBeUndefined();
    expect(compareReleases([], "1.2.4", "1.2.3")).toBeGreaterThan(0);
    expect(compareReleases([], "e4f5a6b", "e4f5a6b")).toBe(0);
  });
});

describe("recordRelease", () => {
  it("returns the same list when the release is already known from as early", () => {
    const known = reportedInOrder("1.2.3");
    expect(recordRelease(known, "1.2.3", "2026-12-01T00:00:00.000Z")).toBe(known);
    expect(recordRelease(known, "", NOW)).toBe(known);
  });

  it("keeps the earliest time a release was reported (alerts arrive out of order)", () => {
    const known = reportedInOrder("1.2.3");
    expect(recordRelease(known, "1.2.3", "2026-10-01T00:00:00.000Z")).toEqual([{ version: "1.2.3", firstSeen: "2026-10-01T00:00:00.000Z" }]);
  });

  it(`keeps at most ${MAX_KNOWN_RELEASES} releases, forgetting the earliest reported`, () => {
    const known = reportedInOrder(...Array.from({ length: MAX_KNOWN_RELEASES + 5 }, (_, i) => `build-${i}`));
    expect(known).toHaveLength(MAX_KNOWN_RELEASES);
    expect(known[0]!.version).toBe("build-5");
    expect(known.at(-1)!.version).toBe(`build-${MAX_KNOWN_RELEASES + 4}`);
  });

  it("stays within one Table property however long the names are, and keeps the one just recorded", () => {
    const long = (i: number) => `${String(i).padStart(4, "0")}-${"x".repeat(995)}`;
    const known = reportedInOrder(...Array.from({ length: 40 }, (_, i) => long(i)));
    expect(JSON.stringify(known).length).toBeLessThanOrEqual(KNOWN_RELEASES_JSON_BUDGET);
    expect(known.at(-1)!.version).toBe(long(39));
    // Reported with a time earlier than everything kept: still kept, the earliest other one goes.
    const late = recordRelease(known, long(99), "2020-01-01T00:00:00.000Z");
    expect(late.some((r) => r.version === long(99))).toBe(true);
    expect(JSON.stringify(late).length).toBeLessThanOrEqual(KNOWN_RELEASES_JSON_BUDGET);
  });
});

describe("compareReleases properties", () => {
  const number = fc.constantFrom("0", "1", "2", "9", "10", "01");
  const version = fc
    .record({
      pkg: fc.constantFrom("", "web@", "api@"),
      v: fc.constantFrom("", "v"),
      numbers: fc.array(number, { minLength: 2, maxLength: 4 }),
      pre: fc.option(fc.array(fc.constantFrom("alpha", "beta", "rc", "1", "2", "10", "01"), { minLength: 1, maxLength: 2 }), { nil: undefined }),
      build: fc.option(fc.constantFrom("1", "2", "10", "01", "abc", "x9"), { nil: undefined }),
    })
    .map(({ pkg, v, numbers, pre, build }) => `${pkg}${v}${numbers.join(".")}${pre ? `-${pre.join(".")}` : ""}${build ? `+${build}` : ""}`);
  const name = fc.oneof(fc.constantFrom("a1b2c3d", "e4f5a6b", "release-7", "1042", "2026-11-21"), fc.string({ minLength: 1, maxLength: 5 }));
  /** Few versions, many spellings of each: the same version written two ways is common. */
  const spelling = fc.constantFrom("1.2", "1.2.0", "v1.2", "01.2.0.0", "1.3", "v1.3.0", "web@1.2", "web@v1.2.0");
  const release = fc.oneof({ weight: 3, arbitrary: version }, { weight: 2, arbitrary: spelling }, { weight: 2, arbitrary: name });
  /** Releases the project reported (in that order), and some it never did. */
  const scenario = fc.record({
    reported: fc.array(release, { minLength: 1, maxLength: 14 }),
    unreported: fc.array(release, { maxLength: 4 }),
  });
  const sign = (n: number | undefined) => (n === undefined ? undefined : Math.sign(n));

  it("is antisymmetric, and defined for every two releases the project reported", () => {
    fc.assert(
      fc.property(scenario, ({ reported, unreported }) => {
        const known = reportedInOrder(...reported);
        const all = [...new Set([...reported, ...unreported])];
        for (const a of all) {
          for (const b of all) {
            const ab = sign(compareReleases(known, a, b));
            const ba = sign(compareReleases(known, b, a));
            expect(ba, `${b} vs ${a}`).toBe(ab === undefined ? undefined : ab === 0 ? 0 : -ab);
            if (reported.includes(a) && reported.includes(b)) expect(ab, `${a} vs ${b}`).not.toBeUndefined();
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it("is transitive, and the same release written two ways stands in the same place relative to any third", () => {
    fc.assert(
      fc.property(scenario, ({ reported, unreported }) => {
        const known = reportedInOrder(...reported);
        const all = [...new Set([...reported, ...unreported])];
        const cmp = (a: string, b: string) => sign(compareReleases(known, a, b));
        for (const a of all) {
          for (const b of all) {
            const ab = cmp(a, b);
            if (ab === undefined || ab > 0) continue;
            for (const c of all) {
              const bc = cmp(b, c);
              const ac = cmp(a, c);
              if (bc === undefined || ac === undefined) continue;
              if (ab < 0 && bc <= 0) expect(ac, `${a} < ${b} ≤ ${c}`).toBe(-1);
              if (ab === 0) expect(ac, `${a} = ${b}, vs ${c}`).toBe(bc);
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it("orders versions of one package by version whatever the order they were reported in", () => {
    fc.assert(
      fc.property(fc.array(version, { minLength: 2, maxLength: 10 }), fc.array(name, { maxLength: 5 }), (versions, names) => {
        const forwards = reportedInOrder(...versions, ...names);
        const backwards = reportedInOrder(...names, ...[...versions].reverse());
        for (const a of versions) {
          for (const b of versions) {
            const parsed = [parseVersion(a)!, parseVersion(b)!] as const;
            if (parsed[0].package !== parsed[1].package) continue;
            const expected = a === b ? 0 : Math.sign(compareVersions(...parsed));
            expect(sign(compareReleases(forwards, a, b))).toBe(expected);
            expect(sign(compareReleases(backwards, a, b))).toBe(expected);
          }
        }
      }),
    );
  });

  it("orders names by when they were first reported", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.constantFrom("a1b2c3d", "e4f5a6b", "release-7", "1042", "c0ffee", "2026-11-21"), { minLength: 2 }), (names) => {
        const known = reportedInOrder(...names, ...[...names].reverse());
        for (let i = 0; i < names.length - 1; i++) expect(compareReleases(known, names[i]!, names[i + 1]!)).toBeLessThan(0);
      }),
    );
  });
});

/**
 * Resolve (immediately / in the current release / in the next release) × an alert from an older, the same,
 * or a newer release, or with no release × releases that are versions and that are not.
 * Expected as Sentry's GroupResolution.has_resolution and its tests (tests/sentry/models/test_groupresolution.py).
 */
describe("resolved in a release, then an alert fires", () => {
  const schemes = {
    // Reported newest first: versions are ordered by version, not by when they were reported.
    versions: { older: "1.2.2", resolvedIn: "1.2.3", newer: "1.10.0", known: reportedInOrder("1.10.0", "1.2.3", "1.2.2") },
    // Hashes whose text order is the reverse of their report order; "newer" is first reported by the alert itself.
    names: { older: "f00dbad", resolvedIn: "c0ffee1", newer: "a1b2c3d", known: reportedInOrder("f00dbad", "c0ffee1") },
  };
  type From = "older" | "same" | "newer" | "no release";
  const regresses: Record<"immediately" | "current" | "next", Record<From, boolean>> = {
    immediately: { older: true, same: true, newer: true, "no release": true },
    current: { older: false, same: true, newer: true, "no release": false },
    next: { older: false, same: false, newer: true, "no release": false },
  };
  const cases = (Object.keys(schemes) as (keyof typeof schemes)[]).flatMap((scheme) =>
    (Object.keys(regresses) as (keyof typeof regresses)[]).flatMap((resolve) =>
      (Object.keys(regresses[resolve]) as From[]).map((from) => [scheme, resolve, from, regresses[resolve][from]] as const),
    ),
  );

  it.each(cases)("%s: resolved %s, alert from %s release → regresses: %s", (scheme, resolve, from, expected) => {
    const { older, resolvedIn, newer, known } = schemes[scheme];
    const issue = anIssue({ tags: { release: resolvedIn } });
    const action: IssueAction = resolve === "immediately" ? { type: "resolve" } : { type: "resolve", inRelease: resolve };
    const outcome = applyAction(issue, action, ana, NOW);
    if (outcome.kind !== "changed") throw new Error(`resolve was ${outcome.kind}`);
    const resolved = outcome.issue;

    const firedIn = { older, same: resolvedIn, newer, "no release": undefined }[from];
    const alert = anAlert({ issue: { lastSeen: "2026-11-21T14:10:00.000Z", tags: firedIn ? { release: firedIn } : {} } });
    const intake = applyAlert(resolved, alert, new Date("2026-11-21T14:11:00.000Z"), known);

    expect(intake.regressed).toBe(expected);
    expect(intake.issue.status).toBe(expected ? "unresolved" : "resolved");
    expect(intake.issue.count).toBe(alert.issue.count);
    if (firedIn) expect(intake.releases!.some((r) => r.version === firedIn)).toBe(true);
    if (expected) {
      expect(intake.issue).toMatchObject({ substatus: "regressed", resolution: undefined });
      expect(intake.activities.map((a) => a.action)).toEqual(["regressed"]);
    } else {
      expect(intake.issue.resolution).toEqual({ inRelease: resolve, release: resolvedIn });
      expect(intake.activities).toEqual([]);
    }
  });

  it("says why it regressed, in the history line and on the issue for the card", () => {
    const resolved = resolvedIn(anIssue({ tags: { release: "1.2.3" } }), "next");
    const intake = applyAlert(resolved, firing("1.2.4"), NOW, reportedInOrder("1.2.3"));
    expect(intake.activities[0]!.detail).toBe("fired in 1.2.4, resolved in the next release after 1.2.3");
    expect(intake.issue.regression).toEqual({ firedIn: "1.2.4", resolution: { inRelease: "next", release: "1.2.3" } });
    expect(regressionLabel(intake.issue)).toBe("Regressed: fired in 1.2.4, resolved in the next release after 1.2.3");

    const current = applyAlert(resolvedIn(anIssue({ tags: { release: "1.2.3" } }), "current"), firing("1.2.3"), NOW, []);
    expect(regressionLabel(current.issue)).toBe("Regressed: fired in 1.2.3, resolved in the current release 1.2.3");
  });

  it("reopens on a release whose order is unknown, and says so (the project's releases not given, or forgotten)", () => {
    const resolved = resolvedIn(anIssue({ tags: { release: "c0ffee1" } }), "next");
    const intake = applyAlert(resolved, firing("f00dbad"), NOW);
    expect(intake.regressed).toBe(true);
    expect(intake.releases).toBeUndefined();
    expect(intake.activities[0]!.detail).toBe(
      "fired in f00dbad (f00dbad is not known to come before c0ffee1), resolved in the next release after c0ffee1",
    );
    // Versions need no memory of the project.
    const versions = resolvedIn(anIssue({ tags: { release: "1.2.3" } }), "next");
    expect(applyAlert(versions, firing("1.2.3"), NOW).regressed).toBe(false);
    expect(applyAlert(versions, firing("1.2.2"), NOW).regressed).toBe(false);
  });

  it("the release recorded for the alert is the time its event was seen, never later than now", () => {
    const alert = anAlert({ issue: { lastSeen: "2026-11-21T15:00:00.000Z", tags: { release: "a1b2c3d" } } });
    expect(applyAlert(undefined, alert, NOW, []).releases).toEqual([{ version: "a1b2c3d", firstSeen: NOW.toISOString() }]);
    const known = reportedInOrder("a1b2c3d");
    expect(applyAlert(undefined, firing("a1b2c3d"), NOW, known).releases).toBe(known);
  });

  it("a resolved issue that stays resolved still counts the alert, and keeps its resolution until it is reopened", () => {
    const resolved = resolvedIn(anIssue({ tags: { release: "1.2.3" } }), "next");
    const same = applyAlert(resolved, firing("1.2.3"), NOW, []);
    expect(same.issue).toMatchObject({ status: "resolved", lastSeen: "2026-11-21T14:10:00.000Z", version: resolved.version + 1 });
    const newer = applyAlert(same.issue, anAlert({ issue: { lastSeen: "2026-11-21T14:20:00.000Z", tags: { release: "1.3.0" } } }), NOW, []);
    expect(newer.regressed).toBe(true);
  });
});

describe("resolution labels for the card", () => {
  it.each([
    [{ status: "resolved", resolution: { inRelease: "next", release: "1.2.3" } }, "Resolved in the next release (after 1.2.3)"],
    [{ status: "resolved", resolution: { inRelease: "current", release: "1.2.3" } }, "Resolved in the current release (1.2.3)"],
    [{ status: "resolved" }, "Resolved"],
    [{ status: "unresolved" }, undefined],
  ] as [Partial<Issue>, string | undefined][])("%j → %s", (fields, label) => {
    expect(resolutionLabel(anIssue({ substatus: undefined, ...fields }))).toBe(label);
  });

  it("shows at most 50 characters of a release, both its ends, so the words after it stay on the card", () => {
    const release = `2026.11.21+build.${"a".repeat(900)}.z9`;
    const label = resolutionLabel(anIssue({ status: "resolved", substatus: undefined, resolution: { inRelease: "next", release } }))!;
    const shown = /^Resolved in the next release \(after (.*)\)$/.exec(label)![1]!;
    expect(shown).toHaveLength(50);
    expect(shown).toMatch(/^2026\.11\.21\+build\.a+…a+\.z9$/);

    const regression = regressionLabel(
      anIssue({ substatus: "regressed", regression: { firedIn: `${release}.1`, resolution: { inRelease: "current", release }, orderUnknown: true } }),
    )!;
    // Four releases named, and still within the 300 characters a banner shows.
    expect(regression.length).toBeLessThanOrEqual(300);
    expect(regression).toMatch(/, resolved in the current release 2026\.11\.21\+build\.a+…a+\.z9$/);
  });

  it("never splits an emoji or a flag when it cuts a release", () => {
    const release = "🇳🇿".repeat(100);
    const label = resolutionLabel(anIssue({ status: "resolved", substatus: undefined, resolution: { inRelease: "current", release } }))!;
    expect(label).toMatch(/^Resolved in the current release \((🇳🇿)+…(🇳🇿)+\)$/u);
  });

  it("a regression after resolving immediately has no release to name", () => {
    expect(regressionLabel(anIssue({ substatus: "regressed" }))).toBe("Regressed: fired again after being resolved");
    expect(regressionLabel(anIssue({ substatus: "ongoing" }))).toBeUndefined();
  });
});

function resolvedIn(issue: Issue, inRelease: "current" | "next"): Issue {
  const outcome = applyAction(issue, { type: "resolve", inRelease }, ana, NOW);
  if (outcome.kind !== "changed") throw new Error(`resolve was ${outcome.kind}`);
  return outcome.issue;
}

function firing(release: string) {
  return anAlert({ issue: { lastSeen: "2026-11-21T14:10:00.000Z", tags: { release } } });
}
