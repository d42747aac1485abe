// Discord's answers when a line starts or goes into a card's thread: which stop that card's lines for good, which
// are waited out.
import { describe, expect, it } from "vitest";
import { threadVerdict } from "../../../shared/delivery/discord-sender";

const refused = (status: number, code: number, message: string) => ({ kind: "error" as const, status, code, message });

describe("a card's thread refused by Discord", () => {
  it("in a channel that can't have threads (a card posted inside a thread, or a voice channel's chat): no more lines, not eight tries each", () => {
    expect(threadVerdict(refused(400, 50024, "Cannot execute action on this channel type"), 1, "start the card's thread")).toMatchObject({
      kind: "dead",
      reason: expect.stringMatching(/kind of channel/),
    });
  });

  it("a locked thread: no more lines", () => {
    expect(threadVerdict(refused(403, 160005, "Thread is locked"), 1, "post in the card's thread").kind).toBe("dead");
  });

  it("a 5xx is waited out", () => {
    expect(threadVerdict(refused(503, 0, "Service Unavailable"), 1, "post in the card's thread").kind).toBe("retry");
  });
});
