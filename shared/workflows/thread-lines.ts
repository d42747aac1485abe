import { assignmentNoticeText, buildThreadLine, type NamedPerson } from "../cards/thread-line";
import { queueCardRefresh, refreshIfOutdated, type CardRefreshMessage } from "../storage/card-refresh-queue";
import { targetKey as targetKeyOf } from "../domain/alert";
import type { Issue } from "../domain/issue";
import { targetLabel } from "../storage/deliveries";
import { LiveCards } from "../storage/live-cards";
import { RefreshGate } from "../storage/refresh-gate";
import { countsAsAttempt, MAX_DELIVERY_ATTEMPTS, type FailureVerdict } from "../delivery/retry-policy";
import { messageRefOf, postThreadLine, sendPersonalNotice, type PersonalChat } from "../delivery/thread-posts";
import { discordDirectMessageIdentity, IdentityRepository, type ChatIdentity, type ChatProvider } from "../storage/identities";
import { CardRepository, cardRowKey, type CardCopy } from "../storage/cards";
import { noticesOn } from "../storage/person-settings";
import { changesSince, NoticeMarks, noticeKey, ThreadCursors, type IssueChange, type ThreadCursor } from "../storage/thread-lines";
import { TeamsInstallations } from "../storage/teams-installations";
import { conversationKeyOf, threadLinesOff } from "../storage/subscriptions";
import type { AppContext } from "../context";

/**
 * Changes older than this get no line and no notice any more: a line that could not be posted for an hour
 * (an outage) would only confuse, and the card has shown the state all along.
 */
export const CONVERSATION_HORIZON_MS = 60 * 60_000;

/**
 * The conversation around the card, after a card refresh (the refresh's coalescing, its pacing and its queue
 * are theirs too): each change gets one line in the thread of every card that was live when it was made, and
 * an assignment (or unassignment) a personal notice to the person, on every platform where they are linked.
 *
 * Lines wait for the issue to settle (CARD_REFRESH_COALESCE_SECONDS without a change), so a burst of changes
 * is one line listing them. Each thread's cursor (the last change lined there) and each notice's mark are
 * claimed with an ETag write before the post, so a redelivered or repeated refresh posts nothing twice; after
 * a crash between a post and its record, the claim runs out and the post is made again (at least once).
 * Waiting (pacing, 429) never uses up a failure attempt. A refresh comes back for whatever must wait.
 */
export async function converseAroundCard(refresher: AppContext, issue: Issue, activityAt: string | undefined): Promise<void> {
  const now = Date.now();
  // Nobody acted on the issue within the horizon (a refresh after repeat alerts): nothing to tell, nothing to read.
  if (!activityAt || now - Date.parse(activityAt) > CONVERSATION_HORIZON_MS) return;
  const changes = (await changesSince(refresher.storage, issue.id, now - CONVERSATION_HORIZON_MS)).filter(
    (change) => change.version <= issue.version && change.action !== "created",
  );
  if (changes.length === 0) return;
  // A fresh identity cache: people's links are read once for this pass.
  const ctx: AppContext = { ...refresher, identities: new IdentityRepository(refresher.storage) };
  const pass: Pass = { ctx, issue, changes, people: new People(ctx.identities, issue, ctx.config.discord), backIn: [], now };
  await sendAssignmentNotices(pass);
  await postThreadLines(pass);
  if (pass.backIn.length > 0) await comeBack(refresher, issue, Math.min(...pass.backIn));
}

/** One pass around a card: what the assignment notices and the thread lines both work from. */
interface Pass {
  ctx: AppContext;
  issue: Issue;
  changes: IssueChange[];
  people: People;
  /** Seconds after which something that had to wait is due: the pass comes back then. */
  backIn: number[];
  now: number;
}

// ---- thread lines

interface Thread {
  copy: CardCopy;
  /** The copy's row key: its thread's name. */
  threadKey: string;
  /** When the next card of the same target was posted: changes from then on go to that card's thread. */
  until?: number;
}

async function postThreadLines(pass: Pass): Promise<void> {
  const { ctx, issue, changes, people, backIn, now } = pass;
  const threads = await threadsOf(ctx, issue);
  if (threads.length === 0) return;
  const cursors = new ThreadCursors(ctx.storage);
  const known = await cursors.list(issue.id);
  const due = threads.flatMap((thread) => {
    const cursor = known.get(thread.threadKey);
    if (cursor?.dead) return [];
    const pending = changes.filter((change) => belongsTo(change, thread, cursor));
    if (pending.length === 0) return [];
    // Another run is posting there; should it die, its claim runs out and a refresh then must look again.
    if (cursor?.claimedUntil && Date.parse(cursor.claimedUntil) > now) {
      backIn.push(secondsUntil(cursor.claimedUntil, now));
      return [];
    }
    return [{ thread, cursor, pending, carried: changesOfLine(pending, cursor) }];
  });
  if (due.length === 0) return;
  const newest = Math.max(...due.flatMap(({ carried }) => carried.map((change) => Date.parse(change.at))));
  const settleMs = ctx.config.cardRefreshCoalesceSeconds * 1000;
  if (now - newest < settleMs) {
    backIn.push(Math.max(1, Math.ceil((newest + settleMs - now) / 1000)));
    return;
  }
  // Discord's people too where a line goes to Discord: named by their linked name, shown as their user there.
  const onDiscord = due.some(({ thread }) => thread.copy.provider === "discord");
  await people.load(
    due.flatMap(({ carried }) => carried.flatMap(namedIn)),
    onDiscord ? ["msteams", "slack", "discord"] : ["msteams", "slack"],
  );
  await Promise.all(
    due.map(async ({ thread, cursor, pending, carried }) => {
      if (!(await cursors.claim(issue.id, thread.threadKey, cursor))) return; // another run has it
      const first = carried[0]!;
      const last = carried[carried.length - 1]!;
      const copy = thread.copy;
      const lined = (threadId?: string) => {
        // The changes made since the line was first tried get the next line: the pass comes back for them.
        if (carried.length < pending.length) backIn.push(1);
        return cursors.lined(issue.id, thread.threadKey, last.version, last.at, threadId);
      };
      const view = buildThreadLine(issue, carried, {
        personFor: people.on(copy),
        // A newer card in the same conversation (the regression's own, as a rule) already tells the channel.
        broadcastRegressions: ctx.config.threadBroadcastRegressions && thread.until === undefined,
      });
      if (!view) return lined();
      const attempt = (cursor?.attempts ?? 0) + 1;
      const line = {
        issue,
        key: `${thread.threadKey}:${first.version}.${first.index}-${last.version}.${last.index}`,
        ...(cursor?.threadId ? { threadId: cursor.threadId } : {}),
      };
      const outcome = await postThreadLine(ctx, copy, view, attempt, line);
      // A Discord thread started (or found) by this attempt: the next line goes straight to it.
      const threadId = outcome.threadId !== cursor?.threadId ? outcome.threadId : undefined;
      const label = `Thread line for ${issue.id} in ${targetLabel(copy.targetKey)}`;
      if (outcome.kind === "sent") return lined(threadId);
      if (outcome.kind === "retry" && (outcome.throttled || attempt < MAX_DELIVERY_ATTEMPTS)) {
        backIn.push(outcome.delaySeconds);
        // Discord answers a line sent again with its nonce by the one already there, but only under the same key:
        // after a failure that may have posted it (not a 429), the retry must carry these changes and no more.
        // Teams and Slack take no key: there, a retry lists whatever is pending by then.
        const mayBeThere = copy.provider === "discord" && !outcome.throttled;
        const attemptedThrough = mayBeThere ? { version: last.version, index: last.index } : undefined;
        return cursors.release(issue.id, thread.threadKey, countsAsAttempt(outcome) ? attempt : attempt - 1, { threadId, attemptedThrough });
      }
      if (outcome.kind === "retry") {
        ctx.log(`${label} given up after ${attempt} attempts: ${outcome.reason}`);
        return lined(threadId);
      }
      ctx.log(`${label}: the thread takes no more lines (${outcome.reason})`);
      return cursors.markDead(issue.id, thread.threadKey, outcome.reason);
    }),
  );
}

/**
 * The changes the thread's next line carries: every pending one, or, retrying a line that may be in the thread
 * already, exactly that line's (none of them left within the horizon: a new line, it can't be the same anyway).
 */
function changesOfLine(pending: IssueChange[], cursor: ThreadCursor | undefined): IssueChange[] {
  const through = cursor?.attemptedThrough;
  if (!through) return pending;
  const attempted = pending.filter(
    (change) => change.version < through.version || (change.version === through.version && change.index <= through.index),
  );
  return attempted.length > 0 ? attempted : pending;
}

/** A change goes in a thread made before it (and before the target's next card), once: after the thread's cursor. */
function belongsTo(change: IssueChange, thread: Thread, cursor: ThreadCursor | undefined): boolean {
  const at = Date.parse(change.at);
  if (thread.until !== undefined && at >= thread.until) return false;
  return cursor && cursor.linedVersion > 0 ? change.version > cursor.linedVersion : at > Date.parse(thread.copy.postedAt);
}

/**
 * The cards whose threads take lines: every copy still alive in a channel, Teams, Slack or Discord. Not in Teams
 * chats (1:1 and group chats have no threads) nor in Slack or Discord DMs (a card there is one person's, and their
 * notices are theirs to turn off): the card's status line says it. Nor where the subscription turned thread lines off.
 */
async function threadsOf(refresher: AppContext, issue: Issue): Promise<Thread[]> {
  const copies = (await new CardRepository(refresher.storage).list(issue.id)).filter((copy) => !copy.dead);
  if (copies.length === 0) return [];
  const off = await threadLinesOff(refresher.storage, issue.project);
  const installations = new TeamsInstallations(refresher.storage);
  await installations.prefetchConversations(copies.flatMap((copy) => (copy.provider === "msteams" ? [copy.conversationId] : [])));
  const byTarget = new Map<string, CardCopy[]>();
  for (const copy of copies) byTarget.set(copy.targetKey, [...(byTarget.get(copy.targetKey) ?? []), copy]);
  const threads: Thread[] = [];
  for (const sameTarget of byTarget.values()) {
    sameTarget.sort((a, b) => Date.parse(a.postedAt) - Date.parse(b.postedAt));
    for (const [i, copy] of sameTarget.entries()) {
      if (copy.provider === "discord" && isDiscordDirectMessage(copy)) continue;
      if (off.has(copy.provider === "discord" ? discordConversationKey(copy.channelId) : conversationKeyOf(copy))) continue;
      if (copy.provider === "msteams" && (await installations.findConversation(copy.conversationId))?.conversationType !== "channel") continue;
      if (copy.provider === "slack" && isSlackDirectMessage(copy.channel)) continue;
      const next = sameTarget[i + 1];
      threads.push({ copy, threadKey: cardRowKey(copy), ...(next ? { until: Date.parse(next.postedAt) } : {}) });
    }
  }
  return threads;
}

/** Slack DM channel ids start with D. */
function isSlackDirectMessage(channel: string): boolean {
  return channel.startsWith("D");
}

/** A Discord copy sent to a person (a DM the bot opened) rather than to the channel it lives in. */
function isDiscordDirectMessage(copy: Extract<CardCopy, { provider: "discord" }>): boolean {
  return copy.targetKey !== targetKeyOf({ provider: "discord", channelId: copy.channelId });
}

/** A Discord channel's subscriptions, as `/triage subscribe` keys them (inbound/discord/interactions.ts). */
function discordConversationKey(channelId: string): string {
  return `discord:${channelId}`;
}

/** The emails a change names: who did it, and whom it assigned or unassigned. */
function namedIn(change: IssueChange): string[] {
  const emails = change.actor.includes("@") ? [change.actor] : [];
  if ((change.action === "assign" || change.action === "unassign") && change.detail) emails.push(change.detail);
  return emails;
}

// ---- assignment notices

async function sendAssignmentNotices(pass: Pass): Promise<void> {
  const { ctx, issue, changes, people, backIn, now } = pass;
  // Assigning yourself needs no notice.
  const assignments = changes.filter(
    (change) =>
      (change.action === "assign" || change.action === "unassign") && change.detail && change.detail.toLowerCase() !== change.actor.toLowerCase(),
  );
  if (assignments.length === 0) return;
  await people.load(assignments.flatMap(namedIn));
  const marks = new NoticeMarks(ctx.storage);
  const known = await marks.list(issue.id);
  for (const change of assignments) {
    const email = change.detail!.toLowerCase();
    const open = people.personalChats(email).filter((chat) => {
      const mark = known.get(noticeKey(change.version, chat.targetKey));
      if (!mark) return true;
      // Not yet: a waiting notice's time, or the claim of a run posting it (should that run die).
      const notYet = mark.state === "waiting" ? mark.notBefore : mark.state === "posting" ? mark.claimedUntil : undefined;
      if (notYet && Date.parse(notYet) > now) backIn.push(secondsUntil(notYet, now));
      return (mark.state === "waiting" || mark.state === "posting") && !(notYet && Date.parse(notYet) > now);
    });
    if (open.length === 0) continue;
    const kind = change.action as "assign" | "unassign";
    const allowed = await noticesOn(ctx.storage, email);
    const text = assignmentNoticeText(kind, people.nameOf(change.actor), issue);
    await Promise.all(
      open.map(async (chat) => {
        const key = noticeKey(change.version, chat.targetKey);
        const mark = known.get(key);
        if (!allowed) return marks.settle(issue.id, key, { state: "dead", reason: "the person turned notices off" });
        if (!(await marks.claim(issue.id, key, mark))) return;
        const attempt = (mark?.attempts ?? 0) + 1;
        const outcome = await sendPersonalNotice(ctx, issue, chat, { text, withCard: kind === "assign", key: `${issue.id}:${key}` }, attempt);
        if (outcome.kind === "sent") {
          // The card in their chat is a live copy from now on: every refresh updates it like the others.
          if (outcome.copy) await recordPersonalCopy(ctx, { ...outcome.copy, notice: text }, `notice:${change.version}`);
          return marks.settle(issue.id, key, { state: "sent" });
        }
        return settleFailure(ctx, marks, issue, key, chat, outcome, attempt, backIn);
      }),
    );
  }
}

async function settleFailure(
  refresher: AppContext,
  marks: NoticeMarks,
  issue: Issue,
  key: string,
  chat: PersonalChat,
  outcome: FailureVerdict,
  attempt: number,
  backIn: number[],
): Promise<void> {
  const label = `Assignment notice for ${issue.id} to ${targetLabel(chat.targetKey)}`;
  if (outcome.kind === "retry" && (outcome.throttled || attempt < MAX_DELIVERY_ATTEMPTS)) {
    backIn.push(outcome.delaySeconds);
    const notBefore = new Date(Date.now() + outcome.delaySeconds * 1000).toISOString();
    return marks.settle(issue.id, key, { state: "waiting", notBefore, attempts: countsAsAttempt(outcome) ? attempt : attempt - 1 });
  }
  const reason = outcome.kind === "retry" ? `gave up after ${attempt} attempts: ${outcome.reason}` : outcome.reason;
  refresher.log(`${label} not sent: ${reason}`);
  return marks.settle(issue.id, key, { state: "dead", reason });
}

async function recordPersonalCopy(refresher: AppContext, copy: CardCopy, alertId: string): Promise<void> {
  await new CardRepository(refresher.storage).save(copy);
  await new LiveCards(refresher.storage).posted(copy.issueId, copy.targetKey, alertId, messageRefOf(copy));
  await refreshIfOutdated(refresher.storage, copy.issueId, [copy]);
}

// ---- who is who

/** The people the changes name, as linked on each platform: read once per run. */
class People {
  /** By provider and email. */
  private readonly links = new Map<string, Promise<ChatIdentity[]>>();
  private readonly loaded = new Map<string, ChatIdentity[]>();
  /** The platforms a person has a personal chat with the app on (assignment notices): Discord's when it is configured. */
  private readonly personalChatProviders: readonly ChatProvider[];

  constructor(
    private readonly identities: IdentityRepository,
    private readonly issue: Issue,
    /** The app's Discord settings; absent when Discord is off. */
    private readonly discord: { allowedGuilds: string[] } | undefined,
  ) {
    this.personalChatProviders = discord ? ["msteams", "slack", "discord"] : ["msteams", "slack"];
  }

  /** Reads the emails' links on these platforms (default: those with personal chats; what an earlier call read is kept). */
  async load(emails: string[], providers: readonly ChatProvider[] = this.personalChatProviders): Promise<void> {
    const read = (email: string, provider: ChatProvider) => {
      const key = `${provider}\n${email}`;
      let links = this.links.get(key);
      if (!links) {
        links = this.identities.findByEmail(email, provider);
        this.links.set(key, links);
      }
      return links;
    };
    await Promise.all(
      [...new Set(emails.map((email) => email.toLowerCase()))].map(async (email) => {
        await Promise.all(providers.map((provider) => read(email, provider)));
        const known = [...this.links.entries()].filter(([key]) => key.endsWith(`\n${email}`)).map(([, links]) => links);
        this.loaded.set(email, (await Promise.all(known)).flat());
      }),
    );
  }

  /** A name for the email: their linked name, the assignee's name on the issue, or the email itself. */
  nameOf(emailOrLabel: string): string {
    if (!emailOrLabel.includes("@")) return emailOrLabel;
    const email = emailOrLabel.toLowerCase();
    const linked = this.loaded.get(email)?.find((identity) => identity.person.name)?.person.name;
    const assignee = this.issue.assignee?.email === email ? this.issue.assignee.name : undefined;
    return linked ?? assignee ?? email;
  }

  /** Who an email is where this copy lives: with their user there when they are linked in that tenant or workspace. */
  on(copy: CardCopy): (email: string) => NamedPerson {
    const scope = copy.provider === "msteams" ? copy.tenantId : copy.provider === "slack" ? copy.teamId : (copy.guildId ?? "");
    return (email) => {
      const here = this.loaded.get(email.toLowerCase())?.find((identity) => identity.provider === copy.provider && identity.scope === scope);
      const name = this.nameOf(email);
      if (!here) return { name };
      const chatUser =
        here.provider === "msteams" ? { id: here.teamsUserId ?? here.chatUserId, aadObjectId: here.chatUserId } : { id: here.chatUserId };
      return { name, chatUser };
    };
  }

  /**
   * The person's personal chats with the app: their Teams 1:1 when linked in Teams, a DM in each Slack workspace they
   * are linked in, and one Discord DM however many servers they are linked in (see discordChat).
   */
  personalChats(email: string): PersonalChat[] {
    const links = this.loaded.get(email) ?? [];
    const chats: PersonalChat[] = [];
    if (links.some((identity) => identity.provider === "msteams")) {
      chats.push({ provider: "msteams", email, targetKey: targetKeyOf({ provider: "msteams", userEmail: email }) });
    }
    for (const identity of links.filter((link) => link.provider === "slack")) {
      chats.push({
        provider: "slack",
        teamId: identity.scope,
        slackUserId: identity.chatUserId,
        targetKey: targetKeyOf({ provider: "slack", teamId: identity.scope, userEmail: email }),
      });
    }
    const discord = this.discordChat(email, links);
    if (discord) chats.push(discord);
    return chats;
  }

  /**
   * A Discord user has one DM with the bot, whichever servers they share: the notice goes there once, its card for
   * the oldest allowed server the person is linked in (its people fill the Assign menu; a click there is judged by
   * it). Always the same server while the links stay, so the notice's mark (per target) is found again next time.
   */
  private discordChat(email: string, links: ChatIdentity[]): PersonalChat | undefined {
    if (!this.discord) return undefined;
    const oldest = discordDirectMessageIdentity(links, this.discord.allowedGuilds);
    if (!oldest) return undefined;
    return {
      provider: "discord",
      guildId: oldest.scope,
      discordUserId: oldest.chatUserId,
      targetKey: targetKeyOf({ provider: "discord", guildId: oldest.scope, userEmail: email }),
    };
  }
}

// ---- coming back

function secondsUntil(iso: string, now: number): number {
  return Math.max(1, Math.ceil((Date.parse(iso) - now) / 1000) + 1);
}

/** Queues the refresh that brings this run's waiting lines and notices back, unless one already comes by then. */
async function comeBack(refresher: AppContext, issue: Issue, delaySeconds: number): Promise<void> {
  const gate = new RefreshGate(refresher.storage, refresher.config.cardRefreshCoalesceSeconds * 1000);
  const trailingFor = await gate.pendingFor(issue.id, delaySeconds);
  if (!trailingFor) return;
  const message: CardRefreshMessage = { issueId: issue.id, version: issue.version, requestedAt: new Date().toISOString(), trailingFor };
  await queueCardRefresh(refresher.storage, message, { delaySeconds });
  await gate.scheduled(issue.id, trailingFor);
}
