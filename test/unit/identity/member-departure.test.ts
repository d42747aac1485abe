// How a member read's failure answers "is the person who left a team still in this other team?": only Teams saying
// they are not in it (or that the team no longer counts) lets their automatic link go; anything else keeps it.
import { describe, expect, it } from "vitest";
import { teamAnswerFromReadFailure } from "../../../shared/identity/member-departure";
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
