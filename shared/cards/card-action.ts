import { z } from "zod";
import type { IssueAction } from "../domain/actions";
import { isIssueId } from "../domain/ids";
import type { Person } from "../domain/issue";
import type { CardAction } from "./view";

/**
 * The data a card button carries back to us, the same on both platforms.
 * `issueId` and `version` say which card was clicked; the issue's state is never taken from here.
 */
export const cardActionPayloadSchema = z.object({
  // Teams turns numbers in card data into strings: coerce.
  v: z.coerce.number().pipe(z.literal(1)),
  // It keys storage reads: an id no alert could have made (a crafted click) fails here, not in storage.
  issueId: z.string().min(1).max(200).refine(isIssueId, "an issue id"),
  cardVersion: z.coerce.number().int().nonnegative().optional(),
  action: z.discriminatedUnion("type", [
    // No `inRelease`: resolve immediately.
    z.object({ type: z.literal("resolve"), inRelease: z.enum(["current", "next"]).optional() }),
    z.object({ type: z.enum(["unresolve", "unignore", "unassign"]) }),
    z.object({
      type: z.literal("ignore"),
      // Teams turns numbers in card data into strings: coerce.
      ignore: z.discriminatedUnion("mode", [
        z.object({ mode: z.literal("forever") }),
        z.object({ mode: z.literal("minutes"), minutes: z.coerce.number().int().positive() }),
        z.object({ mode: z.literal("events"), count: z.coerce.number().int().positive() }),
        z.object({ mode: z.literal("users"), count: z.coerce.number().int().positive() }),
      ]),
    }),
    z.object({ type: z.literal("assign"), assignee: z.union([z.literal("me"), z.email()]) }),
  ]),
});

export type CardActionPayload = z.infer<typeof cardActionPayloadSchema>;

export function cardActionPayload(issueId: string, version: number, action: CardAction): CardActionPayload {
  return { v: 1, issueId, cardVersion: version, action } as CardActionPayload;
}

/**
 * The change a click asks for. A button names an assignee by email only; `people` (those known where the
 * click came from) give their display name, so the card and history say "Ben Okafor", as other lines do.
 */
export function toIssueAction(payload: CardActionPayload, people: Person[] = []): IssueAction {
  const action = payload.action;
  if (action.type === "assign") {
    if (action.assignee === "me") return { type: "assign", assignee: "me" };
    const email = action.assignee.toLowerCase();
    const name = people.find((person) => person.email.toLowerCase() === email)?.name;
    return { type: "assign", assignee: name ? { email, name } : { email } };
  }
  if (action.type === "resolve") return action.inRelease ? { type: "resolve", inRelease: action.inRelease } : { type: "resolve" };
  return action;
}
