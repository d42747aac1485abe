import { noticeCard } from "./teams-notices";

// The "link your account" prompts, as each platform shows them. The link itself (a signed, single-use,
// short-lived URL) is made by shared/identity; without a sign-in provider there is none, and the prompt says why.

const NOT_SET_UP =
  "Accounts can't be linked by sign-in on this app (no sign-in provider is configured). Ask your admin to set OIDC_ISSUER, or to let Triage Relay use your verified email.";

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
