import type { Person } from "../domain/issue";
import type { ChatProvider, IdentityRepository } from "../storage/identities";

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

/** The person the platform vouches for, asked only when needed; undefined when it vouches for no one. */
export type VerifiedPersonReader = () => Promise<Person | undefined>;

/**
 * The platform throttled the profile read: nobody can say who this is yet, which is not "nobody is linked".
 * Thrown through, for the caller to try again after `retryAfterSeconds`.
 */
export class ProfileReadThrottled extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(`the profile read was throttled; retry after ${retryAfterSeconds}s`);
    this.name = "ProfileReadThrottled";
  }
}

/**
 * Who a chat user is: their linked person, or (auto-link on, and they never unlinked themselves) the person
 * their platform verified, linked now. Undefined when neither: actions that need a person then say so.
 */
export async function linkedOrAutoLinked(deps: AutoLinkDeps, user: ChatUser, readVerified: VerifiedPersonReader): Promise<Person | undefined> {
  const { identity, optedOut } = await deps.identities.lookup(user.provider, user.scope, user.chatUserId);
  if (identity) return identity.person;
  if (!deps.autoLink || optedOut) return undefined;
  return autoLinkVerified(deps, user, readVerified);
}

/**
 * Links the user to the person their platform verified; a failure to read or write is logged, and no one is linked,
 * except a throttled read, thrown through (`ProfileReadThrottled`).
 */
export async function autoLinkVerified(
  deps: Omit<AutoLinkDeps, "autoLink">,
  user: ChatUser,
  readVerified: VerifiedPersonReader,
): Promise<Person | undefined> {
  try {
    const person = await readVerified();
    if (!person) return undefined;
    await recordAutoLink(deps, user, person);
    return person;
  } catch (error) {
    if (error instanceof ProfileReadThrottled) throw error;
    deps.log(`could not read the user's profile: ${(error as { code?: string }).code ?? (error as Error).message}`);
    return undefined;
  }
}

/** Records an automatic link (how: "auto") for a person already vouched for. */
export async function recordAutoLink(deps: Pick<AutoLinkDeps, "identities" | "now">, user: ChatUser, person: Person): Promise<void> {
  await deps.identities.link({
    provider: user.provider,
    scope: user.scope,
    chatUserId: user.chatUserId,
    person,
    how: "auto",
    linkedAt: (deps.now?.() ?? new Date()).toISOString(),
    ...(user.teamsUserId ? { teamsUserId: user.teamsUserId } : {}),
  });
}
