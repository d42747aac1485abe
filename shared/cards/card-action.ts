import { z } from "zod";
import type { IssueAction } from "../domain/actions";
import type { CardAction } from "./view";

/**
 * The data a card button carries back to us, the same on both platforms.
 * `issueId` and `version` say which card was clicked; the issue's state is never taken from here.
 */
export const cardActionPayloadSchema = z.object({
  // Teams turns numbers in card data into strings: coerce.
  v: z.coerce.number().pipe(z.literal(1)),
  issueId: z.string().min(1).max(200),
  cardVersion: z.coerce.number().int().nonnegative().optional(),
  action: z.discriminatedUnion("type", [
    z.object({ type: z.enum(["resolve", "unresolve", "unignore", "unassign"]) }),
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

export function toIssueAction(payload: CardActionPayload): IssueAction {
  const action = payload.action;
  if (action.type === "assign") {
    return { type: "assign", assignee: action.assignee === "me" ? "me" : { email: action.assignee.toLowerCase() } };
  }
  return action;
}
