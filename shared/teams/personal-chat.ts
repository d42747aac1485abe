import type { StorageClients } from "../storage/clients";
import { TeamsInstallations, type TeamsInstallation } from "../storage/teams-installations";
import { ConnectorError, TeamsBudgetSpent, type OutgoingActivity } from "./connector";
import { TEAMS_CALL_WAIT_MS } from "./pacing";
import type { AppContext } from "../context";

export interface TeamsPerson {
  tenantId: string;
  aadObjectId: string;
  /** The `29:` id, when known; the object id works too for creating the chat. */
  teamsUserId?: string;
  /** A service URL that reaches the person's tenant (from an activity, or a stored reference). */
  serviceUrl: string;
}

/**
 * The person's 1:1 chat with the bot: the stored one, or a new one created (and stored) now, the creation waiting at
 * most `waitMs` for its slot in the tenant's Teams budget (else `TeamsBudgetSpent`).
 */
export async function openPersonalChat(
  deps: Pick<AppContext, "config" | "storage" | "teams">,
  person: TeamsPerson,
  waitMs = TEAMS_CALL_WAIT_MS,
): Promise<TeamsInstallation> {
  const installations = new TeamsInstallations(deps.storage);
  const existing = await installations.findPersonal(person.tenantId, person.aadObjectId);
  if (existing?.active) return existing;
  const created = await deps.teams.createPersonalConversation(
    person.serviceUrl,
    deps.config.bot.appId,
    person.teamsUserId ?? person.aadObjectId,
    person.tenantId,
    waitMs,
  );
  const chat: TeamsInstallation = {
    tenantId: person.tenantId,
    conversationId: created.id,
    serviceUrl: person.serviceUrl,
    conversationType: "personal",
    userAadObjectId: person.aadObjectId,
    active: true,
    updatedAt: new Date().toISOString(),
  };
  await installations.save(chat);
  return chat;
}

/** A 1:1 chat to send to: where the person is typing, or where a link was asked for. */
export interface ChatRef {
  serviceUrl: string;
  conversationId: string;
}

/**
 * How a private message fared. `replaced`: the chat on record was gone, so a new one was opened and the
 * message went there. Not sent: `gone` (Teams no longer knows the chat, 404) or `blocked` (403: the app was
 * removed or blocked there), and no new chat could take the message either; `held-back` when the tenant's Teams
 * budget had no slot for it in time (Teams never saw it: a slot is free in `retryInSeconds`), with `queued` when it
 * was put on the queue to be sent then (held-back.ts); `failed` for anything else.
 */
export type PersonalSend =
  | { sent: true; chat: ChatRef; replaced: boolean }
  | { sent: false; problem: "gone" | "blocked" | "failed"; detail: string }
  | { sent: false; problem: "held-back"; detail: string; retryInSeconds: number; queued?: true };

/** Teams refuses the conversation itself, not the one request (notes/teams.md §8: treat as uninstalled). */
export function isClosedConversation(error: unknown): error is ConnectorError {
  return error instanceof ConnectorError && (error.status === 403 || error.status === 404);
}

/**
 * Sends `build(chat)` privately to a person: to `chat` when given, else their stored 1:1 chat with the bot,
 * else one created now. When Teams answers 403/404 for that chat it is marked inactive on record (every
 * path that sends to a stored 1:1 chat comes through here) and a fresh 1:1 chat is opened and tried once.
 * `build` gets the chat the message goes to, so what it says (a link's confirmation target) follows it. Every call
 * spends the person's tenant's Teams budget, each waiting at most `waitMs` for its slot.
 */
export async function sendToPersonalChat(
  deps: Pick<AppContext, "config" | "storage" | "teams" | "log">,
  person: TeamsPerson,
  build: (chat: ChatRef) => Promise<OutgoingActivity> | OutgoingActivity,
  chat?: ChatRef,
  { waitMs = TEAMS_CALL_WAIT_MS }: { waitMs?: number } = {},
): Promise<PersonalSend> {
  const pacing = { tenantId: person.tenantId, waitMs };
  const send = async (target: ChatRef) => deps.teams.send(target.serviceUrl, target.conversationId, await build(target), pacing);
  let first: ChatRef;
  try {
    first = chat ?? (await openPersonalChat(deps, person, waitMs));
    await send(first);
    return { sent: true, chat: first, replaced: false };
  } catch (error) {
    if (!isClosedConversation(error)) return failed(deps, error);
    const closed = error;
    const gone = chat ?? (await new TeamsInstallations(deps.storage).findPersonal(person.tenantId, person.aadObjectId));
    if (gone) await markInactive(deps, person.tenantId, gone.conversationId, closed);
    try {
      const fresh = await openPersonalChat(deps, person, waitMs);
      await send(fresh);
      deps.log("Teams: the personal chat on record was closed; sent in a new 1:1 chat instead");
      return { sent: true, chat: fresh, replaced: true };
    } catch (retryError) {
      // No slot for the new chat in time: it is held back like any other send, not lost with the closed chat.
      if (retryError instanceof TeamsBudgetSpent) return failed(deps, retryError);
      if (isClosedConversation(retryError)) {
        // The new chat (often the same id, as Teams keeps one 1:1 per bot and user) is closed too.
        const again = await new TeamsInstallations(deps.storage).findPersonal(person.tenantId, person.aadObjectId);
        if (again?.active) await markInactive(deps, person.tenantId, again.conversationId, retryError);
      } else {
        deps.log(`Teams: could not open a new 1:1 chat: ${(retryError as Error).message}`);
      }
      return {
        sent: false,
        problem: closed.status === 404 ? "gone" : "blocked",
        detail: describe(retryError instanceof ConnectorError ? retryError : closed),
      };
    }
  }
}

async function markInactive(
  deps: { storage: StorageClients; log: (line: string) => void },
  tenantId: string,
  conversationId: string,
  error: ConnectorError,
): Promise<void> {
  try {
    await new TeamsInstallations(deps.storage).deactivate(tenantId, conversationId, describe(error), { gone: error.status === 404 });
    deps.log(`Teams: personal chat marked inactive (${describe(error)})`);
  } catch (storageError) {
    deps.log(`Teams: could not mark a closed personal chat inactive: ${(storageError as Error).name}`);
  }
}

function failed(deps: { log: (line: string) => void }, error: unknown): PersonalSend {
  deps.log(`Teams: private message not delivered: ${(error as Error).message}`);
  if (error instanceof TeamsBudgetSpent) {
    return { sent: false, problem: "held-back", detail: "Teams is busy just now", retryInSeconds: error.retryAfterSec ?? 1 };
  }
  return { sent: false, problem: "failed", detail: error instanceof ConnectorError ? describe(error) : "no answer from Teams" };
}

function describe(error: ConnectorError): string {
  return `HTTP ${error.status}${error.code ? ` ${error.code}` : ""}`;
}
