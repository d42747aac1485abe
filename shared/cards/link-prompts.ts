import { noticeCard } from "./teams-notices";

// The "link your account" prompts, as each platform shows them. The link itself (a signed, single-use,
// short-lived URL) is made by shared/identity; without a sign-in provider there is none, and the prompt says why.

/** Explicit linking is off (no sign-in provider): a prompt then carries no link, and the words beside it say so. */
export const NO_SIGN_IN_LINKING = "Accounts can't be linked by sign-in on this app";
const NOT_SET_UP = `${NO_SIGN_IN_LINKING} (no sign-in provider is configured). Ask your admin to set OIDC_ISSUER, or to let Triage Relay use your verified email.`;

export interface LinkPromptContent {
  /** Why the person is asked to link. */
  why: string;
  /** The link page; absent when explicit linking is off. */
  url?: string;
  /** How long the link works. */
  lifetimeMinutes: number;
}

/** The Adaptive Card sent to a Teams user's 1:1 chat. */
export function teamsLinkPromptCard({ why, url, lifetimeMinutes }: LinkPromptContent) {
  return url
    ? {
        ...noticeCard("Link your account", [why, `The link works once, for ${lifetimeMinutes} minutes.`]),
        actions: [{ type: "Action.OpenUrl", title: "Link your account", url }],
      }
    : noticeCard("Your account isn't linked", [why, NOT_SET_UP]);
}

/** How a click's link prompt fared by the time the clicker is answered: sent, still on its way, or not sent. */
export type LinkPromptDelivery = "sent" | "sending" | "not-sent";

/**
 * What a Teams clicker who isn't linked is told beside the card: nothing changed, and what their 1:1 chat got (or is
 * getting) from `teamsLinkPromptCard`: a link (`offersLink`), or why there is none.
 */
export function teamsUnlinkedClickNotice(offersLink: boolean, delivery: LinkPromptDelivery): string {
  if (!offersLink) {
    if (delivery === "not-sent") return `Nothing was changed: your account isn't linked. ${NOT_SET_UP}`;
    const sending = delivery === "sent" ? "I've sent" : "I'm sending";
    return `Nothing was changed: your account isn't linked, and ${NO_SIGN_IN_LINKING.toLowerCase()}. ${sending} you the details in your chat with Triage Relay.`;
  }
  switch (delivery) {
    case "sent":
      return "Nothing was changed: link your account first. I've sent you a link in your chat with Triage Relay.";
    case "sending":
      return "Nothing was changed: link your account first. I'm sending you a link in your chat with Triage Relay.";
    case "not-sent":
      return "Nothing was changed: link your account first. I couldn't reach our 1:1 chat to send you a link: open Triage Relay in Teams and type **link** there.";
  }
}

/** The ephemeral Slack message, with a link button, for the person who clicked or typed. */
export function slackLinkPromptMessage({ why, url, lifetimeMinutes }: LinkPromptContent) {
  if (!url) return { response_type: "ephemeral" as const, replace_original: false, text: `${why} ${NOT_SET_UP}` };
  const text = `${why} Link your account (the link works once, for ${lifetimeMinutes} minutes): ${url}`;
  return {
    response_type: "ephemeral" as const,
    replace_original: false,
    text,
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: why } },
      {
        type: "actions",
        elements: [{ type: "button", action_id: "triage.link", text: { type: "plain_text", text: "Link your account" }, url, style: "primary" }],
      },
      { type: "context", elements: [{ type: "mrkdwn", text: `The link works once, for ${lifetimeMinutes} minutes.` }] },
    ],
  };
}
