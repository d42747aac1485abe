import { createHash } from "node:crypto";
import { renderReleaseDiscordMessage } from "../cards/release-discord";
import { releaseCardAttachment } from "../cards/release-teams";
import { renderReleaseSlackMessage } from "../cards/release-slack";
import { buildReleaseView, type ReleaseContent } from "../cards/release-view";
import { deliveryId, DeliveryRepository, SENDING_STALE_MS, targetLabel, type DeliveryChanges, type DeliveryRow } from "../storage/deliveries";
import { safeKey, escapeOData } from "../storage/table";
import { instances } from "../storage/instances";
import { countsAsAttempt, MAX_DELIVERY_ATTEMPTS, type FailureVerdict } from "../delivery/retry-policy";
import { UnprovenPosts, type PostedThing } from "../delivery/unproven-post";
import {
  channelTurn,
  classifySlackError,
  closedSlackChannel,
  DEAD_TARGET_ERRORS,
  findPosted,
  handleFailure,
  isUnanswered,
  openDirectMessage,
  postAppMessage,
} from "../delivery/slack-sender";
import { conversationFor, withConnector } from "../delivery/teams-sender";
import { targetKey, type AlertTarget } from "../domain/alert";
import type { Issue } from "../domain/issue";
import { openRegressionSince, parseReleaseMessage, previousRelease, resolvedInRelease, type ReleaseMessage } from "../domain/release-notice";
import { discordDirectMessageIdentity, IdentityRepository, type ChatIdentity } from "../storage/identities";
import { QUEUES, TABLES, type StorageClients } from "../storage/clients";
import { IssueRepository } from "../storage/issues";
import { ProjectReleases } from "../storage/releases";
import { poisonFor, type PoisonMessage } from "./intake-result";
import { withSlack, type AppContext } from "../context";

export type ReleaseIntakeResult =
  | { kind: "poisoned"; poison: PoisonMessage }
  | { kind: "release"; project: string; version: string; sent: number; waiting: number; dead: number; retryInSeconds?: number };

/** Slack message metadata of a release notice (its payload names the notice × target, no personal data). */
export const RELEASE_METADATA_TYPE = "triage_relay_release";
const MAX_REQUEUE_SECONDS = 300;
const RELEASE_NOTICE: PostedThing = { name: "release notice", short: "notice" };

interface NoticeTarget {
  key: string;
  target: AlertTarget;
  personal: boolean;
}

/**
 * A release message off the `alerts` queue: record the release, then post the release card to the project's
 * subscribed conversations (Teams, Slack, Discord) and a personal notice to each person named who is linked on
 * Teams, Slack or Discord. Each notice × target is a row in `deliveries` (partition: the notice), taken with a
 * conditional write before its post: a redelivered message posts nothing twice. Posts that must wait (paced, 429, 5xx) put the
 * message back on `alerts` with a delay; the rows already sent are skipped when it comes back. Invalid → `alerts-poison`.
 */
export async function takeRelease(
  storage: StorageClients,
  message: unknown,
  originalText: string,
  deliverer: AppContext | undefined,
): Promise<ReleaseIntakeResult> {
  const parsed = parseReleaseMessage(message);
  if (!parsed.ok) {
    const poison = poisonFor(parsed.error, parsed.issues, originalText);
    await storage.send(`${QUEUES.alerts}-poison`, poison);
    return { kind: "poisoned", poison };
  }
  if (!deliverer) throw new Error("A release notice needs the platforms to post to (no deliverer given).");
  const { release } = parsed.message;
  const now = Date.now();
  const deployedAt = new Date(Math.min(release.deployedAt ? Date.parse(release.deployedAt) : now, now));
  const known = await new ProjectReleases(storage).record(release.project, release.version, deployedAt);

  const identities = new IdentityRepository(storage);
  const targets = [
    ...(await subscribedConversations(storage, release.project)),
    ...(await linkedPeople(identities, release.people, deliverer.config.discord)),
  ];
  const noticeId = releaseNoticeId(parsed.message);
  const summary = { kind: "release" as const, project: release.project, version: release.version, sent: 0, waiting: 0, dead: 0 };
  if (targets.length === 0) return summary;

  const deliveries = new DeliveryRepository(storage);
  await deliveries.planMany(
    noticeId,
    `release:${release.project}`,
    targets.map(({ key, target }) => ({ targetKey: key, target })),
  );
  // Read back with their ETags: a row is taken only if nobody took it since this read.
  const wanted = new Set(targets.map((t) => t.key));
  const rows = (await deliveries.listForAlert(noticeId)).filter((row) => wanted.has(row.targetKey));
  const personal = new Set(targets.filter((t) => t.personal).map((t) => t.key));
  const { taken, waitSeconds } = await takeOpenRows(deliveries, rows);
  summary.sent = rows.filter((row) => row.state === "sent").length;
  summary.dead = rows.filter((row) => row.state === "dead").length;
  let retryIn = waitSeconds;

  if (taken.length > 0) {
    const issues = await new IssueRepository(storage).listResolvedOrRegressed(release.project);
    const content: ReleaseContent = {
      release,
      resolved: newestFirst(issues.filter((issue) => resolvedInRelease(issue, release.version, known))),
      regressions: newestFirst(issues.filter((issue) => openRegressionSince(issue, release.version, known))),
      previous: previousRelease(known, release.version)?.version,
    };
    const sender: AppContext = { ...deliverer, storage, identities };
    const changes = new Map<string, DeliveryChanges>();
    for (const notice of taken) {
      const { row, attempt, unconfirmed } = notice;
      const unproven = new UnprovenPosts(deliveries, noticeId, row, RELEASE_NOTICE);
      const outcome = await postNotice(deliverer, sender, content, notice, personal.has(row.targetKey), noticeId, unproven);
      const label = `Release ${release.project} ${release.version} to ${targetLabel(row.targetKey)}`;
      if (outcome.kind === "sent") {
        const decision = unproven.sentDecision("posted the release notice", { adopted: outcome.adopted });
        changes.set(row.targetKey, { state: "sent", attempts: attempt, messageRef: outcome.messageRef, decision });
        summary.sent++;
      } else if (outcome.kind === "retry" && (outcome.throttled || attempt < MAX_DELIVERY_ATTEMPTS)) {
        changes.set(row.targetKey, {
          state: "pending",
          attempts: countsAsAttempt(outcome) ? attempt : attempt - 1,
          reason: outcome.reason,
          ...(outcome.ambiguous ? { unconfirmed: unconfirmed + 1 } : {}),
        });
        retryIn = Math.max(retryIn ?? 0, outcome.delaySeconds);
        summary.waiting++;
        deliverer.log(
          `${label}: retry in ${outcome.delaySeconds}s (${outcome.reason}${outcome.ambiguous ? "; no answer: it may have been posted" : ""})`,
        );
      } else {
        const reason =
          outcome.kind === "withheld"
            ? unproven.withheldReason(outcome.reason)
            : outcome.kind === "retry"
              ? `gave up after ${attempt} attempts: ${outcome.reason}`
              : outcome.reason;
        changes.set(row.targetKey, { state: "dead", attempts: attempt, reason });
        summary.dead++;
        deliverer.log(`${label} is dead: ${reason}`);
      }
    }
    await deliveries.updateMany(noticeId, changes);
  }
  if (retryIn !== undefined) {
    // The same message again, later: what was sent is skipped, what waits is posted then.
    const delaySeconds = Math.min(MAX_REQUEUE_SECONDS, Math.max(1, Math.ceil(retryIn)));
    await storage.send(QUEUES.alerts, parsed.message, { delaySeconds });
    return { ...summary, retryInSeconds: delaySeconds };
  }
  return summary;
}

/** The notice's idempotency key: one per project × environment × version, whatever else the message says. */
export function releaseNoticeId(message: ReleaseMessage): string {
  const { project, environment, version } = message.release;
  return `release:${createHash("sha256")
    .update(`${project}\n${environment ?? ""}\n${version}`)
    .digest("base64url")
    .slice(0, 32)}`;
}

/** A row taken for this attempt; `unconfirmed`: the earlier attempts whose outcome is unknown (the notice may be there). */
interface TakenNotice {
  row: DeliveryRow;
  attempt: number;
  unconfirmed: number;
}

/** Rows still to post, taken for this attempt in one conditional transaction; rows another consumer is posting make the message wait. */
async function takeOpenRows(deliveries: DeliveryRepository, rows: DeliveryRow[]): Promise<{ taken: TakenNotice[]; waitSeconds?: number }> {
  const now = Date.now();
  const taken: TakenNotice[] = [];
  let waitSeconds: number | undefined;
  for (const row of rows) {
    if (row.state === "sent" || row.state === "dead") continue;
    if (row.state === "sending") {
      const busyFor = now - Date.parse(row.sendingSince ?? "");
      if (busyFor < SENDING_STALE_MS) {
        waitSeconds = Math.max(waitSeconds ?? 0, Math.ceil((SENDING_STALE_MS - busyFor) / 1000) + 1);
        continue;
      }
    }
    taken.push({ row, attempt: row.attempts + 1, unconfirmed: row.state === "sending" ? row.unconfirmed + 1 : row.unconfirmed });
  }
  // Another copy of the message took some of them first: it posts those; look again shortly.
  if (!(await deliveries.takeMany(taken))) return { taken: [], waitSeconds: 2 };
  return { taken, waitSeconds };
}

type NoticeOutcome = { kind: "sent"; messageRef: string; adopted?: boolean } | { kind: "withheld"; reason: string } | FailureVerdict;

/**
 * Posts the notice to one taken target under the cards' "exactly once" rule (README): after an attempt whose
 * outcome is unknown, Slack looks for that attempt's notice by its metadata first; where nothing can be asked
 * (Teams, Discord, or Slack without the history scopes) one more post is made, counted on the row before it goes
 * out, and none after it (`unproven`). Discord's posts also carry a nonce per notice × target (channel or DM), so
 * that one more post, made within Discord's few minutes, answers the first instead of doubling it.
 */
async function postNotice(
  deliverer: AppContext,
  sender: AppContext,
  content: ReleaseContent,
  { row, attempt, unconfirmed }: TakenNotice,
  personal: boolean,
  noticeId: string,
  unproven: UnprovenPosts,
): Promise<NoticeOutcome> {
  const view = buildReleaseView(content, { personal });
  const target = row.target;
  if (target.provider === "msteams") {
    const where = await conversationFor(sender, target, attempt);
    // Finding (or opening) the conversation posts nothing: its failure never makes the notice "may be there".
    if ("kind" in where) return where.kind === "retry" ? { ...where, ambiguous: false } : where;
    const outcome = await withConnector(sender, where, attempt, "send", async (): Promise<NoticeOutcome> => {
      if (unconfirmed > 0 && !(await unproven.beforePost())) {
        return { kind: "withheld", reason: "an earlier post's outcome is unknown and Teams can't be asked" };
      }
      const posted = await sender.teams.send(where.serviceUrl, where.conversationId, {
        type: "message",
        summary: view.title.slice(0, 200),
        attachments: [releaseCardAttachment(view)],
      });
      return { kind: "sent", messageRef: `${where.conversationId}/${posted.id}` };
    });
    return outcome.kind === "dead-installation" ? { kind: "dead", reason: outcome.reason } : outcome;
  }
  if (target.provider === "discord") {
    const { postDiscordDirectMessage, postDiscordMessage } = await import("../delivery/discord-sender");
    const message = renderReleaseDiscordMessage(view);
    const post = {
      key: deliveryId(noticeId, row.targetKey),
      doing: "post the release notice",
      ...(unconfirmed > 0 ? { mayPost: unproven.beforePost } : {}),
    };
    let posted: Awaited<ReturnType<typeof postDiscordMessage>>;
    if ("channelId" in target) {
      posted = await postDiscordMessage(sender, target.channelId, message, attempt, post);
    } else {
      // Whoever the email is linked to on Discord now: the target names the person, not one of their servers.
      const recipient = directMessageRecipient(await sender.identities.findByEmail(target.userEmail, "discord"), deliverer.config.discord);
      if (!recipient) return { kind: "dead", reason: "no longer linked on Discord" };
      posted = await postDiscordDirectMessage(sender, recipient.chatUserId, message, attempt, { ...post, posting: true });
    }
    if (posted.kind === "held back") return { kind: "withheld", reason: "an earlier post's outcome is unknown and Discord can't be asked" };
    return posted.kind === "posted" ? { kind: "sent", messageRef: `${posted.channelId}/${posted.messageId}` } : posted;
  }
  const slackSender = withSlack(sender);
  if (!slackSender) return { kind: "dead", reason: "Slack is not configured on this app (SLACK_SIGNING_SECRET)" };
  if ("channel" in target) {
    const closed = await closedSlackChannel(deliverer.storage, target.teamId, target.channel);
    if (closed) return closed;
  }
  const noticeDeliveryId = deliveryId(noticeId, row.targetKey);
  let posting = false;
  try {
    const client = await slackSender.slack.client(target.teamId);
    const channel = "channel" in target ? target.channel : await openDirectMessage(client, target.userEmail);
    /** Why an earlier attempt's notice can't be ruled out, when it can't. */
    let lookupFailed: string | undefined;
    if (unconfirmed > 0) {
      const earlier = await findPosted(client, channel, noticeDeliveryId, RELEASE_METADATA_TYPE);
      if (earlier.kind === "found") return { kind: "sent", messageRef: `${channel}/${earlier.ts}`, adopted: true };
      if (earlier.kind === "unknown") lookupFailed = earlier.reason;
    }
    await instances(deliverer.storage).current();
    const wait = await channelTurn(deliverer.storage, target.teamId, channel);
    if (wait) return wait;
    if (lookupFailed !== undefined && !(await unproven.beforePost())) {
      const reason = `an earlier post's outcome is unknown and could not be looked up (${lookupFailed})`;
      return { kind: "withheld", reason };
    }
    posting = true;
    const posted = await postAppMessage(client, channel, renderReleaseSlackMessage(view), {
      event_type: RELEASE_METADATA_TYPE,
      event_payload: { delivery: noticeDeliveryId },
    });
    return { kind: "sent", messageRef: `${posted.channel ?? channel}/${posted.ts}` };
  } catch (error) {
    const verdict = await handleFailure(slackSender, target.teamId, classifySlackError(error, attempt, DEAD_TARGET_ERRORS));
    if (verdict.kind === "dead-installation") return { kind: "dead", reason: verdict.reason };
    return verdict.kind === "retry" && posting && isUnanswered(error) ? { ...verdict, ambiguous: true } : verdict;
  }
}

/** Every conversation subscribed to the project, whatever its minimum level: a release concerns them all. */
async function subscribedConversations(storage: StorageClients, project: string): Promise<NoticeTarget[]> {
  const table = await storage.table(TABLES.subscriptions);
  const found = new Map<string, NoticeTarget>();
  for await (const entity of table.listEntities<{ target: string }>({ queryOptions: { filter: `RowKey eq '${escapeOData(safeKey(project))}'` } })) {
    let target: AlertTarget;
    try {
      target = JSON.parse(entity.target) as AlertTarget;
    } catch {
      continue;
    }
    found.set(targetKey(target), { key: targetKey(target), target, personal: false });
  }
  return [...found.values()];
}

/**
 * A personal notice per platform (and Slack workspace) where the person is linked, and one Discord DM however many
 * servers they are linked in (when Discord is on); people linked nowhere get none.
 */
async function linkedPeople(identities: IdentityRepository, people: string[], discord: DiscordSettings | undefined): Promise<NoticeTarget[]> {
  const targets = new Map<string, NoticeTarget>();
  for (const email of new Set(people)) {
    const add = (target: AlertTarget, key = targetKey(target)) => targets.set(key, { key, target, personal: true });
    if ((await identities.findByEmail(email, "msteams")).length > 0) add({ provider: "msteams", userEmail: email });
    for (const identity of await identities.findByEmail(email, "slack")) add({ provider: "slack", teamId: identity.scope, userEmail: email });
    const onDiscord = discord ? directMessageRecipient(await identities.findByEmail(email, "discord"), discord) : undefined;
    if (onDiscord) add({ provider: "discord", guildId: onDiscord.scope, userEmail: email }, discordDirectMessageKey(email));
  }
  return [...targets.values()];
}

type DiscordSettings = { allowedGuilds: string[] };

/**
 * A person's Discord DM's target key. Not `targetKey`'s `discord:<guild>:email:…`: a Discord user has one DM with the
 * bot whichever servers they share, so the key names no server, and stays the same when they link in another one
 * (a release delivered again then posts no second DM). Distinct from a channel's `discord:<channel id>`.
 */
function discordDirectMessageKey(email: string): string {
  return `discord:dm:email:${email.toLowerCase()}`;
}

/** Who gets a person's Discord DM (as assignment notices pick); none when Discord is off. */
function directMessageRecipient(links: ChatIdentity[], discord: DiscordSettings | undefined): ChatIdentity | undefined {
  return discord ? discordDirectMessageIdentity(links, discord.allowedGuilds) : undefined;
}

function newestFirst(issues: Issue[]): Issue[] {
  const changed = (issue: Issue) => Date.parse(issue.statusChangedAt ?? issue.lastSeen) || 0;
  return [...issues].sort((a, b) => changed(b) - changed(a));
}
