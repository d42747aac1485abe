import { decodeSlackAction } from "../cards/slack-message";
import type { IdentityRepository } from "../identity/identities";
import { toIssueAction } from "../cards/card-action";
import type { Config } from "../config";
import { slackMessageFor } from "../delivery/slack-sender";
import { CardRepository } from "../storage/cards";
import { QUEUES, type StorageClients } from "../storage/clients";
import { IssueRepository } from "../storage/issues";
import { actOnIssue } from "../workflows/issue-actions";
import type { SlackTokens } from "./client";
import { slackLinkPrompt } from "../identity/prompts";
import { identifySlackUser } from "./identify";
import type { BlockActions } from "./payloads";
import { ephemeral, postToResponseUrl } from "./responses";

export interface SlackApp {
  config: Config;
  storage: StorageClients;
  slackTokens: SlackTokens;
  identities: IdentityRepository;
  log: (line: string) => void;
}

/** The clicked message must show the new state within 2 s; the 3 s ack leaves no more. */
const RESPONSE_URL_TIMEOUT_MS = 1500;

/**
 * A click on a card: decide, store, and show the result to the clicker through the response_url;
 * every other copy is refreshed through the card-refresh queue the change announced.
 *
 * `click`: inside Slack's 3 s, so no Slack API call — storage and the response_url only. A click that
 * needs Slack first (reading a new user's profile to link them) is queued and finished by the `worker`
 * (the response_url stays usable for 30 minutes); nothing runs after the HTTP answer.
 */
export async function handleBlockActions(app: SlackApp, payload: BlockActions, stage: "click" | "worker" = "click"): Promise<void> {
  const teamId = payload.team?.id ?? payload.user.team_id;
  const responseUrl = payload.response_url;
  const reply = async (body: unknown) => {
    if (responseUrl) await postToResponseUrl(responseUrl, body, RESPONSE_URL_TIMEOUT_MS);
  };
  if (!teamId) return reply(ephemeral("This action came without a workspace, so it can't be applied."));
  const clicked = payload.actions[0]!;
  // A URL button (the "Link your account" prompt) opens the link in the browser; Slack still tells us it was clicked.
  if (clicked.action_id === "triage.link" || (clicked.type === "button" && "url" in clicked)) return;
  const selected = clicked.selected_option?.value ?? clicked.value;
  const action = decodeSlackAction(clicked.action_id, selected, clicked.block_id);
  if (!action) {
    app.log(`Slack: unknown action ${clicked.action_id.slice(0, 60)} refused`);
    return reply(ephemeral("That button isn't one Triage Relay knows: the message may be from an older version. Nothing was changed."));
  }
  if (!(await app.slackTokens.serves(teamId))) {
    return reply(ephemeral("Triage Relay isn't installed in this workspace any more, so nothing was changed. Ask an admin to reinstall it."));
  }

  const label = payload.user.name ?? payload.user.username ?? "a Slack user";
  if (stage === "click") {
    const { identity, optedOut } = await app.identities.lookup("slack", teamId, payload.user.id);
    if (!identity && app.config.autoLink && !optedOut) {
      await app.storage.send(QUEUES.slackActions, payload);
      app.log("Slack: click from a user not linked yet: finishing it off the 3-second path");
      return;
    }
  }
  const actor = await identifySlackUser(app, teamId, payload.user.id, label);
  if (!actor.person) {
    app.log("Slack: click from an unlinked user: link prompt sent, nothing changed");
    return reply(await slackLinkPrompt(app.config, { teamId, userId: payload.user.id, name: payload.user.name ?? payload.user.username, responseUrl }, "To act on issues from Slack, link your Slack account to your work account first. Nothing was changed."));
  }
  const outcome = await actOnIssue(app.storage, action.issueId, toIssueAction(action), actor);
  app.log(`Slack: ${action.action.type} on ${action.issueId}: ${outcome.kind}`);

  if (outcome.kind === "not-found" || outcome.kind === "refused") {
    return reply(ephemeral(`Couldn't do that: ${outcome.reason}`));
  }
  const issue = outcome.kind === "changed" ? outcome.issue : (await new IssueRepository(app.storage).get(action.issueId))?.issue;
  if (!issue) return;
  const message = await slackMessageFor(app, issue, teamId);
  const replaced = await postToResponseUrl(responseUrl ?? "", { replace_original: true, ...message }, RESPONSE_URL_TIMEOUT_MS);
  if (replaced) await markClickedCopyRendered(app, action.issueId, payload, issue.version);
  if (outcome.kind === "unchanged") await reply(ephemeral(outcome.message));
}

async function markClickedCopyRendered(app: SlackApp, issueId: string, payload: BlockActions, version: number): Promise<void> {
  const channel = payload.container?.channel_id ?? payload.channel?.id;
  const ts = payload.container?.message_ts ?? payload.message?.ts;
  if (!channel || !ts) return;
  const cards = new CardRepository(app.storage);
  const copy = (await cards.list(issueId)).find((card) => card.provider === "slack" && card.channel === channel && card.ts === ts);
  if (copy) await cards.markRendered(copy, version);
}
