import type { CardActionPayload } from "../cards/card-action";
import type { IssueAction } from "../domain/actions";
import type { Actor, Issue } from "../domain/issue";
import type { ChatProvider } from "../storage/identities";
import type { ActedOnIssue, ActOutcome } from "./issue-actions";

// A click on a card, on any platform: identify the chat user → a link prompt if they are unknown → apply
// the action → the outcome (changed, no change and why, refused and why) for the clicked copy's new render.
// Each platform turns its payload into a `CardClick`, supplies the steps that need its API (`ClickSteps`),
// and turns the `ClickResult` into its wire format.

/** A click as a platform received it. */
export interface CardClick {
  provider: ChatProvider;
  /** Teams tenant id, or Slack team id. */
  scope: string;
  issueId: string;
  /** The action as the card encodes it; the steps turn it into the change (`decide`). */
  requested: { type: CardActionPayload["action"]["type"] };
}

/** A click that ends without applying anything: a word for the clicker, or (Slack's click path) a hand-off to its worker. */
export type NotApplied = { kind: "answer"; text: string } | { kind: "hand-off"; reason: string };

/** The change a click asks for, or why it isn't applied. */
export type ClickIntent = { kind: "apply"; action: IssueAction } | NotApplied;

/** The platform's part of the flow. */
export interface ClickSteps<LinkPrompt> {
  /** Who clicked: their linked person, or one linked now by the platform's verified email; no person when unknown. */
  identify(): Promise<Actor | NotApplied>;
  /** Asks an unknown clicker to link their account (privately); the prompt, or what to tell them, is the platform's. */
  promptToLink(): Promise<LinkPrompt>;
  /** The change the click asks for, with people resolved as the platform knows them. */
  decide(actor: Actor): Promise<ClickIntent>;
  /** Applies the change (ETag write, announcements left to the caller); undefined when the platform gave the click away meanwhile. */
  apply(action: IssueAction, actor: Actor): Promise<ActedOnIssue | undefined>;
  log(line: string): void;
}

/** What applying a click came to, enough to answer the clicker and render their copy. */
export type ClickOutcome =
  | { kind: "changed"; issue: Issue }
  | { kind: "unchanged"; issue?: Issue; message: string }
  | { kind: "refused"; issue?: Issue; message: string }
  | { kind: "not-found"; issue?: undefined; message: string };

export type ClickResult<LinkPrompt> =
  | NotApplied
  | { kind: "link-needed"; prompt: LinkPrompt }
  /** Given away while applying: whoever took the click answers it. */
  | { kind: "given-away" }
  | { kind: "acted"; outcome: ClickOutcome; acted: ActedOnIssue };

export async function runCardClick<LinkPrompt>(click: CardClick, steps: ClickSteps<LinkPrompt>): Promise<ClickResult<LinkPrompt>> {
  const actor = await steps.identify();
  if ("kind" in actor) return actor;
  if (!actor.person) return { kind: "link-needed", prompt: await steps.promptToLink() };
  const intent = await steps.decide(actor);
  if (intent.kind !== "apply") return intent;
  const acted = await steps.apply(intent.action, actor);
  if (!acted) return { kind: "given-away" };
  steps.log(`${click.requested.type} on ${click.issueId}: ${acted.outcome.kind}`);
  return { kind: "acted", outcome: clickOutcome(acted), acted };
}

export function clickOutcome(acted: Pick<ActedOnIssue, "outcome" | "issue">): ClickOutcome {
  const outcome: ActOutcome = acted.outcome;
  switch (outcome.kind) {
    case "changed":
      return { kind: "changed", issue: outcome.issue };
    case "unchanged":
      return { kind: "unchanged", issue: outcome.issue, message: outcome.message };
    case "refused":
      return { kind: "refused", issue: acted.issue, message: outcome.reason };
    case "not-found":
      return { kind: "not-found", message: outcome.reason };
  }
}

/** What to tell the clicker beside their copy of the card; undefined when the new state says it all. */
export function clickNotice(outcome: { kind: ClickOutcome["kind"]; message?: string }): string | undefined {
  switch (outcome.kind) {
    case "changed":
      return undefined;
    case "unchanged":
      return outcome.message ?? "Nothing to change.";
    case "refused":
    case "not-found":
      return `Couldn't do that: ${outcome.message}`;
  }
}
