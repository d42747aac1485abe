import type { ChatIdentity } from "../storage/identities";

/** How a platform shows a command to type (`**link**`, `/triage link`) and how it linked someone automatically. */
export interface IdentityWording {
  command: (words: string) => string;
  /** E.g. "automatically, by your Slack email". */
  automatically: string;
}

/** `status`: who the sender is linked as, in any platform's words. */
export function statusWords(identity: ChatIdentity | undefined, wording: IdentityWording): string {
  return identity
    ? `You're linked as ${identity.person.email} (${identity.how === "auto" ? wording.automatically : "by sign-in"}).`
    : `You're not linked to anyone yet. Type ${wording.command("link")} to link your account.`;
}

/** `unlink`: who they were linked as, if anyone. */
export function unlinkedWords(previous: ChatIdentity | undefined, wording: Pick<IdentityWording, "command">): string {
  return previous
    ? `You're unlinked (you were ${previous.person.email}). Type ${wording.command("link")} to link again.`
    : `You weren't linked. Type ${wording.command("link")} to link your account.`;
}
