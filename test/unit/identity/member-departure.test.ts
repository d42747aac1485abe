// Someone removed from a Teams team loses their automatic link only when Teams said they are not in a team with the
// bot, and no team has them or could not say. How a member read's failure answers "are they in this team?", whether
// it is worth asking again, the order teams are asked in, and the member-sync messages that carry the check.
import { describe, expect, it } from "vitest";
import { departureVerdict, retryDelayMs, teamAnswerFromReadFailure, teamsToAsk, type TeamAnswer } from "../../../shared/identity/member-departure";
import { memberSyncQueueMessageSchema } from "../../../shared/identity/member-sync";
import { ConnectorError, UntrustedServiceUrlError } from "../../../shared/teams/connector";

const answered = (status: number, code?: string) => new ConnectorError(status, code, undefined, "getMember");

describe("a member read that failed, for someone who left another team", () => {
  it.each([
    [404, "MemberNotFoundInConversation"],
    [400, "MemberNotFoundInConversation"],
  ])("%i %s: they are not in this team", (status, code) => {
    expect(teamAnswerFromReadFailure(answered(status, code))).toEqual({ kind: "not-member" });
  });

  it.each([
    [404, "ConversationNotFound"],
    [403, "BotNotInConversationRoster"],
    [403, undefined],
  ])("%i %s: the team no longer counts (gone, or the bot is no longer in it)", (status, code) => {
    expect(teamAnswerFromReadFailure(answered(status, code))).toEqual({ kind: "not-counted" });
  });

  it.each([
    [429, "Throttled", "Teams answered 429 Throttled"],
    [503, undefined, "Teams answered 503"],
    [502, "BadGateway", "Teams answered 502 BadGateway"],
    [412, undefined, "Teams answered 412"],
    [404, undefined, "Teams answered 404"],
    [401, "Unauthorized", "Teams answered 401 Unauthorized"],
  ])("%i %s: not known, so the link is kept", (status, code, reason) => {
    expect(teamAnswerFromReadFailure(answered(status, code))).toEqual({ kind: "unknown", reason });
  });

  it("no answer (timeout, no connection, a service URL not trusted): not known", () => {
    expect(teamAnswerFromReadFailure(new DOMException("timed out", "TimeoutError"))).toEqual({
      kind: "unknown",
      reason: "no answer from Teams in time",
    });
    expect(teamAnswerFromReadFailure(new TypeError("fetch failed"))).toEqual({ kind: "unknown", reason: "could not connect to Teams" });
    expect(teamAnswerFromReadFailure(new UntrustedServiceUrlError("evil.example"))).toMatchObject({ kind: "unknown" });
  });
});

const team = (n: number) => ({ teamId: `19:team-${String(n).padStart(2, "0")}@thread.tacv2`, serviceUrl: "https://smba.trafficmanager.net/amer/" });
const left = team(0);
const answer = {
  member: { kind: "member" },
  notMember: { kind: "not-member" },
  notCounted: { kind: "not-counted" },
  unknown: { kind: "unknown", reason: "Teams answered 503" },
} satisfies Record<string, TeamAnswer>;
const inTheTeamTheyLeft = (a: TeamAnswer) => ({ theTeamTheyLeft: true, answer: a });
const elsewhere = (a: TeamAnswer) => ({ theTeamTheyLeft: false, answer: a });
const done = { goneFromOneAlready: false, moreTeamsToAsk: false };

describe("whether someone who left a team loses their automatic link", () => {
  it("removed only when a team said they are not in it and no team has them or could not say", () => {
    expect(departureVerdict([inTheTeamTheyLeft(answer.notMember), elsewhere(answer.notMember), elsewhere(answer.notCounted)], done)).toEqual({
      kind: "remove",
    });
  });

  it("still in another team: kept", () => {
    expect(departureVerdict([inTheTeamTheyLeft(answer.notMember), elsewhere(answer.member)], done)).toEqual({
      kind: "keep",
      because: "still-a-member",
    });
  });

  it("a team could not say (after its tries): kept, with why", () => {
    expect(departureVerdict([inTheTeamTheyLeft(answer.notMember), elsewhere(answer.unknown)], done)).toEqual({
      kind: "keep",
      because: "not-known",
      reason: "Teams answered 503",
    });
  });

  it("every team answered 403 or is gone (the app blocked across the tenant): nobody said they left, kept", () => {
    expect(departureVerdict([inTheTeamTheyLeft(answer.notCounted), elsewhere(answer.notCounted), elsewhere(answer.notCounted)], done)).toEqual({
      kind: "keep",
      because: "never-said-gone",
    });
    expect(departureVerdict([], done)).toEqual({ kind: "keep", because: "never-said-gone" });
  });

  it("the team they left still lists them (the removal has not landed, or they are back): asked again later", () => {
    expect(departureVerdict([inTheTeamTheyLeft(answer.member)], { ...done, moreTeamsToAsk: true })).toEqual({ kind: "ask-again-later" });
  });

  it("more teams to ask: goes on, remembering whether a team already said they are not in it", () => {
    expect(departureVerdict([inTheTeamTheyLeft(answer.notMember), elsewhere(answer.notCounted)], { ...done, moreTeamsToAsk: true })).toEqual({
      kind: "ask-more-teams",
      goneFromOne: true,
    });
    expect(departureVerdict([elsewhere(answer.notCounted)], { ...done, moreTeamsToAsk: true })).toEqual({
      kind: "ask-more-teams",
      goneFromOne: false,
    });
    expect(departureVerdict([elsewhere(answer.notCounted)], { goneFromOneAlready: true, moreTeamsToAsk: false })).toEqual({ kind: "remove" });
    expect(departureVerdict([elsewhere(answer.member)], { goneFromOneAlready: true, moreTeamsToAsk: true })).toEqual({
      kind: "keep",
      because: "still-a-member",
    });
  });
});

describe("the teams asked about someone who left a team", () => {
  const thirty = Array.from({ length: 30 }, (_, n) => team(30 - n));

  it("the team they left first, then every other team with the bot, page by page, however many", () => {
    const first = teamsToAsk(left, [left, ...thirty], undefined, 25);
    expect(first.teams[0]).toEqual(left);
    expect(first.teams).toHaveLength(25);
    expect(first.more).toBe(true);
    const second = teamsToAsk(left, [left, ...thirty], first.teams.at(-1)!.teamId, 25);
    expect(second.more).toBe(false);
    const asked = [...first.teams, ...second.teams].map((t) => t.teamId);
    expect(new Set(asked).size).toBe(31);
    expect(asked.sort()).toEqual([left, ...thirty].map((t) => t.teamId).sort());
  });

  it("the team they left is asked even when no channel of it is known as active, and only once", () => {
    expect(teamsToAsk(left, [team(2), team(1)], undefined, 25)).toEqual({ teams: [left, team(1), team(2)], more: false });
  });
});

describe("a member read that failed: asked again?", () => {
  it.each([
    [503, undefined],
    [502, "BadGateway"],
    [504, undefined],
    [500, undefined],
    [412, undefined],
    [429, "Throttled"],
  ])("%i %s: yes, after a backoff that grows", (status, code) => {
    const first = retryDelayMs(answered(status, code), 1)!;
    const third = retryDelayMs(answered(status, code), 3)!;
    expect(first).toBeGreaterThanOrEqual(500);
    expect(first).toBeLessThanOrEqual(1_000);
    expect(third).toBeGreaterThanOrEqual(2_000);
    expect(third).toBeLessThanOrEqual(4_000);
  });

  it("429 with Retry-After: after what Teams asked (within reason)", () => {
    expect(retryDelayMs(new ConnectorError(429, "Throttled", 3, "getMember"), 1)).toBe(3_000);
    expect(retryDelayMs(new ConnectorError(429, "Throttled", 3_600, "getMember"), 1)).toBe(30_000);
  });

  it("no answer in time, or no connection: yes", () => {
    expect(retryDelayMs(new DOMException("timed out", "TimeoutError"), 1)).toBeGreaterThan(0);
    expect(retryDelayMs(new TypeError("fetch failed"), 1)).toBeGreaterThan(0);
  });

  it.each([
    [404, "MemberNotFoundInConversation"],
    [404, "ConversationNotFound"],
    [403, "BotNotInConversationRoster"],
    [401, "Unauthorized"],
    [400, "BadArgument"],
  ])("%i %s: no, it is an answer (or asking again won't change it)", (status, code) => {
    expect(retryDelayMs(answered(status, code), 1)).toBeUndefined();
  });

  it("a few tries only: then Teams can't say", () => {
    expect(retryDelayMs(answered(503), 3)).toBeDefined();
    expect(retryDelayMs(answered(503), 4)).toBeUndefined();
    expect(retryDelayMs(new UntrustedServiceUrlError("evil.example"), 1)).toBeUndefined();
  });
});

describe("member-sync messages", () => {
  it("a roster page queued before member checks shared the queue is still read as a roster page", () => {
    const page = { tenantId: "t", serviceUrl: "https://smba.trafficmanager.net/amer/", teamId: left.teamId, continuationToken: "abc", attempt: 2 };
    expect(memberSyncQueueMessageSchema.parse(page)).toEqual(page);
  });

  it("a member's departure check is its own kind, and a malformed one is not mistaken for a roster page", () => {
    const check = {
      kind: "member-left",
      tenantId: "t",
      serviceUrl: "https://smba.trafficmanager.net/amer/",
      teamId: left.teamId,
      member: { id: "29:1abc", aadObjectId: "00000000-0000-4000-8000-000000000001" },
    };
    expect(memberSyncQueueMessageSchema.parse(check)).toEqual(check);
    const { member: _member, ...noMember } = check;
    expect(memberSyncQueueMessageSchema.safeParse(noMember).success).toBe(false);
  });
});
