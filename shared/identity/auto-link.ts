import type { Person } from "../domain/issue";
import type { AutoLinkFollowed, ChatIdentity, ChatProvider, IdentityRepository } from "../storage/identities";

// Linking chat users to people by the email their platform verified (Teams member email/UPN in an allowed
// tenant, Slack's confirmed email), on every platform the same way: a link someone made, or undid, wins.

/** A chat user, as their platform names them. */
export interface ChatUser {
  provider: ChatProvider;
  /** Teams tenant id, or Slack team id. */
  scope: string;
  /** Teams: Entra object id; Slack: user id. */
  chatUserId: string;
  /** Teams: the `29:` id that addresses them in a conversation. */
  teamsUserId?: string;
}

export interface AutoLinkDeps {
  identities: IdentityRepository;
  /** AUTO_LINK: whether people are linked by verified email at all. */
  autoLink: boolean;
  log: (line: string) => void;
  now?: () => Date;
}

/**
 * The person the platform vouches for, asked only when needed; undefined when it vouches for no one. Throws
 * `ProfileReadUnavailable` when the platform can't answer just now (each platform's reader says when that is).
 */
export type VerifiedPersonReader = () => Promise<Person | undefined>;

/**
 * The profile read failed for a reason that passes (throttled, the platform briefly failing, no answer): nobody
 * can say who this is just now, which is not "nobody is linked". Thrown through, for the caller to say so.
 */
export class ProfileReadUnavailable extends Error {
  constructor(
    readonly reason: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(`the profile could not be read just now: ${reason}`);
    this.name = "ProfileReadUnavailable";
  }
}

/** The platform throttled the profile read: try again after `retryAfterSeconds`. */
export class ProfileReadThrottled extends ProfileReadUnavailable {
  constructor(override readonly retryAfterSeconds: number) {
    super(`throttled; retry after ${retryAfterSeconds}s`, retryAfterSeconds);
    this.name = "ProfileReadThrottled";
  }
}

/**
 * Who a chat user is: their linked person, or (auto-link on, and they never unlinked themselves) the person
 * their platform verified, linked now. Undefined when neither: actions that need a person then say so.
 * Throws `ProfileReadUnavailable` when the platform can't be asked just now (so no one is told to link an
 * account they may well have).
 */
export async function linkedOrAutoLinked(deps: AutoLinkDeps, user: ChatUser, readVerified: VerifiedPersonReader): Promise<Person | undefined> {
  const { identity, optedOut } = await deps.identities.lookup(user.provider, user.scope, user.chatUserId);
  if (identity)
    return deps.autoLink && isDueForRecheck(deps, user, identity) ? rechecked(deps, user, identity.person, readVerified) : identity.person;
  if (!deps.autoLink || optedOut) return undefined;
  return autoLinkVerified(deps, user, readVerified);
}

/**
 * How old an automatic link grows before the person's verified email is read again on their next click (an email
 * changes: a rename, a new domain). Teams only: one Bot Connector read a day per person. Slack's clicks make no
 * Slack call on their path (its 3-second deadline), so none is added there. A link someone made is never re-read.
 */
export const AUTO_LINK_RECHECK_AFTER_MS: Partial<Record<ChatProvider, number>> = { msteams: 24 * 60 * 60 * 1000 };
/** How long a click waits for that read; past it the click goes on as the linked person. */
const RECHECK_WAIT_MS = 2000;

function isDueForRecheck(deps: Pick<AutoLinkDeps, "now">, user: ChatUser, identity: ChatIdentity): boolean {
  const after = AUTO_LINK_RECHECK_AFTER_MS[user.provider];
  if (identity.how !== "auto" || after === undefined) return false;
  const age = now(deps).getTime() - Date.parse(identity.linkedAt);
  return !(age < after); // a date that can't be read counts as old
}

/**
 * The person an old automatic link names, read again from the platform: relinked (its `linkedAt` then says when it
 * was last confirmed) when the email or name changed, or confirmed as it is. A read that fails, or takes longer than
 * RECHECK_WAIT_MS, changes nothing for the click: it goes on as the linked person. What the read brings is written
 * only over the automatic link it checked, even when it lands after the click: a sign-in or an unlink made meanwhile
 * (on any instance), or a newer read, stays.
 */
async function rechecked(deps: AutoLinkDeps, user: ChatUser, linked: Person, readVerified: VerifiedPersonReader): Promise<Person> {
  const recheck = (async () => {
    const askedAt = now(deps);
    const verified = (await readVerified()) ?? linked; // vouched for by no one now (no email): kept as it was
    const followed = await deps.identities.followAutoLink(user.provider, user.scope, user.chatUserId, verified, askedAt.toISOString(), {
      recordCheck: true,
    });
    if (followed === "relinked" && verified.email !== linked.email)
      deps.log("an automatic link's verified email changed: linked again to the new one");
    if (followed === "relinked" || followed === "unchanged") return verified;
    deps.log(`an automatic link changed while it was checked again (${followed}): left as it is now`);
    return linked;
  })().catch((error: unknown) => {
    const why = error instanceof ProfileReadUnavailable ? error.reason : ((error as { code?: string }).code ?? (error as Error).name);
    deps.log(`an automatic link could not be checked again, kept as it is: ${why}`);
    return linked;
  });
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<Person>((resolve) => {
    timer = setTimeout(() => resolve(linked), RECHECK_WAIT_MS);
  });
  try {
    return await Promise.race([recheck, waited]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Links the user to the person their platform verified; a failure to read or write is logged, and no one is linked,
 * except a read that could not be made just now, thrown through (`ProfileReadUnavailable`).
 */
export async function autoLinkVerified(
  deps: Omit<AutoLinkDeps, "autoLink">,
  user: ChatUser,
  readVerified: VerifiedPersonReader,
): Promise<Person | undefined> {
  try {
    const askedAt = now(deps);
    const person = await readVerified();
    if (!person) return undefined;
    await recordAutoLink(deps, user, person, askedAt);
    return person;
  } catch (error) {
    if (error instanceof ProfileReadUnavailable) throw error;
    deps.log(`could not read the user's profile: ${(error as { code?: string }).code ?? (error as Error).message}`);
    return undefined;
  }
}

/**
 * Records an automatic link (how: "auto") for a person the platform vouched for at `vouchedAt` (by default now; a
 * read's start, where there is one: what it says is no older than that). Never over a link someone made or undid.
 */
export function recordAutoLink(
  deps: Pick<AutoLinkDeps, "identities" | "now">,
  user: ChatUser,
  person: Person,
  vouchedAt: Date = now(deps),
): Promise<"linked" | AutoLinkFollowed> {
  return deps.identities.linkAutomatically({
    provider: user.provider,
    scope: user.scope,
    chatUserId: user.chatUserId,
    person,
    linkedAt: vouchedAt.toISOString(),
    ...(user.teamsUserId ? { teamsUserId: user.teamsUserId } : {}),
  });
}

function now(deps: Pick<AutoLinkDeps, "now">): Date {
  return deps.now?.() ?? new Date();
}
