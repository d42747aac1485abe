import { escapeSlack } from "../../cards/text";
import { projectAsTyped, type CommandReply, type PostingStop } from "../../workflows/commands";

// What a Slack user is told when cards can't be posted where they subscribed: after the command, or by the
// channel check that follows it (subscribe-check.ts).

/** The bot user's name in the app manifest: what people pick after `/invite @`. */
const APP_NAME = "Triage Relay";

/**
 * Why cards can't be posted in the channel: what Slack's channel events said (PostingStop), or what Slack answered when
 * asked after a subscribe: the app was never invited (a private channel), or this is a direct message between people.
 */
export type ChannelProblem = PostingStop | "not-invited" | "direct-message";

/** The problem first, then its fix, then that the subscription was saved anyway. */
export function subscribedWhereStopped(reply: Extract<CommandReply, { kind: "subscribed" }>, stopped: ChannelProblem[], name: string): string {
  const project = `*${escapeSlack(reply.project)}*`;
  if (stopped.includes("deleted") || stopped.includes("direct-message")) {
    const unsubscribe = escapeSlack(`${name} unsubscribe ${projectAsTyped(reply.project)}`);
    return `${whyStopped(stopped)} The subscription to ${project} is saved, but no cards can come here: \`${unsubscribe}\` removes it.`;
  }
  const withoutThread = reply.thread ? "" : ", without thread replies saying who did what";
  return `${whyStopped(stopped)} The subscription is saved: alerts for ${project} at level ${reply.minLevel} or above will be posted in this channel from the next alert after that${withoutThread}.`;
}

/** Why cards can't be posted in the channel, and what brings them (nothing does for a deleted channel or a direct message). */
export function whyStopped(stopped: ChannelProblem[]): string {
  const notIn = stopped.includes("removed") || stopped.includes("not-invited");
  const problems = [
    stopped.includes("deleted") && "This channel was deleted, so cards can't be posted in it.",
    stopped.includes("direct-message") && "I'm not in this conversation, so I can't post cards here: cards go to channels.",
    stopped.includes("archived") && "This channel is archived, and cards can't be posted in an archived channel.",
    stopped.includes("removed") && "I'm not in this channel: someone removed me, so I can't post cards here.",
    stopped.includes("not-invited") && "I'm not in this channel, so I can't post cards here.",
  ].filter((problem) => problem !== false);
  if (stopped.includes("deleted") || stopped.includes("direct-message")) return problems.join(" ");
  const fixes = [stopped.includes("archived") && "unarchive the channel", notIn && `invite me with \`/invite @${APP_NAME}\``].filter(
    (fix) => fix !== false,
  );
  const fix = fixes.join(", then ");
  return `${problems.join(" ")} ${fix.charAt(0).toUpperCase()}${fix.slice(1)} to get cards here.`;
}
