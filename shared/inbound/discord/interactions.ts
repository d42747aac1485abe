import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import type { APIInteractionResponse } from "discord-api-types/v10";
import { InteractionWebhook } from "../../discord/interaction-webhook";
import { discordRest } from "../../discord/rest";
import { decodeDiscordComponent } from "../../cards/discord-message";
import type { Config } from "../../config";
import {
  commandInteractionSchema,
  componentInteractionSchema,
  EPHEMERAL,
  ephemeral,
  InteractionResponseType,
  InteractionType,
  interactionUser,
  pong,
  type CommandInteraction,
  type ComponentInteraction,
} from "../../discord/payloads";
import { renderDiscordCopy } from "../../delivery/discord-sender";
import type { Actor } from "../../domain/issue";
import { zodPath } from "../../http";
import { IdentityRepository } from "../../storage/identities";
import { linkUrl } from "../../identity/prompts";
import type { AppContext } from "../../context";
import { CardRepository } from "../../storage/cards";
import { DiscordGuilds } from "../../storage/discord-guilds";
import { IssueRepository } from "../../storage/issues";
import type { StorageClients } from "../../storage/clients";
import { clickNotice, runCardClick } from "../../workflows/card-click";
import { projectFromOption, runCommand } from "../../workflows/commands";
import { actOnIssueAnnounceLater } from "../../workflows/issue-actions";
import { discordIntentOf } from "./assign-choice";
import { clickedCopyAfterEdit, type ClickedCopy } from "./clicked-card";
import { receiveDiscordInteraction } from "./receive";
import { discordWords, linkWords } from "./words";

interface DiscordApp {
  config: Config;
  storage: StorageClients;
  identities: IdentityRepository;
  log: (line: string) => void;
}

/** Discord shows "This interaction failed" after 3 s; answering by 2.5 s leaves room for the network and a busy instance. */
export const ANSWER_WITHIN_MS = 2_500;

const SOMETHING_WENT_WRONG = "Something went wrong on our side, so this may not have been applied. Try again in a moment.";

/** An interaction's answer, and what follows once it is on its way. */
interface Answering {
  response: APIInteractionResponse;
  /** The card an UPDATE_MESSAGE answer carries: the version it shows, and how to draw it again for a late edit. */
  card?: AnsweredCard;
  afterwards?: Afterwards;
}

/** What a click does once its answer is on its way. */
interface Afterwards {
  /** Records in the clicked copy's row what the clicked message shows now. */
  markClicked(clicked: ClickedCopy): Promise<void>;
  /** Sends the change's announcements: history lines, issue events, the card refresh (it spares a copy marked up to date). */
  announce(): Promise<void>;
}

interface DrawnCard {
  message: unknown;
  version: number;
}

interface AnsweredCard extends DrawnCard {
  /** The card as the issue is stored now: a retried edit draws it, so it never puts back a state already replaced. */
  redraw(): Promise<DrawnCard>;
}

/**
 * POST /api/discord/interactions: every interaction Discord sends, verified first. PING → PONG; a component
 * on a card → the one click flow, answered with UPDATE_MESSAGE (type 7) carrying the re-rendered card;
 * `/triage` → the one command flow, answered ephemerally. Whatever isn't done by ANSWER_WITHIN_MS is answered
 * deferred (a click: DEFERRED_UPDATE_MESSAGE, type 6; a command: an ephemeral "thinking…", type 5) and
 * finished through the interaction's webhook: the original response edited, or a followup.
 */
export async function handleDiscordInteraction(request: HttpRequest, ctx: AppContext, context: InvocationContext): Promise<HttpResponseInit> {
  const receivedAt = Date.now();
  const received = await receiveDiscordInteraction(request, ctx.config, context);
  if (!received.ok) return received.response;
  const { json } = received;
  const app: DiscordApp = {
    config: ctx.config,
    storage: ctx.storage,
    identities: ctx.identities,
    log: (line) => context.log(`Discord: ${line}`),
  };
  const refuse = (reason: string): HttpResponseInit => {
    context.warn(`Discord request refused (400): ${reason}`);
    return { status: 400 };
  };
  switch (json.type) {
    case InteractionType.Ping:
      return answer(pong());
    case InteractionType.MessageComponent: {
      const parsed = componentInteractionSchema.safeParse(json);
      if (!parsed.success) return refuse(`component interaction malformed at ${zodPath(parsed.error)}`);
      const click = parsed.data;
      return answer(
        await answerInTime(app, click, receivedAt, () => onClick(app, click, json), { type: InteractionResponseType.DeferredMessageUpdate }),
      );
    }
    case InteractionType.ApplicationCommand: {
      const parsed = commandInteractionSchema.safeParse(json);
      if (!parsed.success) return refuse(`command interaction malformed at ${zodPath(parsed.error)}`);
      const command = parsed.data;
      return answer(
        await answerInTime(app, command, receivedAt, async () => ({ response: await onCommand(app, command) }), {
          type: InteractionResponseType.DeferredChannelMessageWithSource,
          data: { flags: EPHEMERAL },
        }),
      );
    }
    default:
      return refuse(`interaction type ${String(json.type).slice(0, 20)} not handled`);
  }
}

const answer = (body: APIInteractionResponse): HttpResponseInit => ({ status: 200, jsonBody: body });

/**
 * The answer when the work is done by ANSWER_WITHIN_MS; else `deferred` at once, the work carrying on and its
 * answer sent through the interaction's webhook. A failure is told to the clicker, never a 500.
 */
async function answerInTime(
  app: DiscordApp,
  interaction: { token: string; application_id: string },
  receivedAt: number,
  work: () => Promise<Answering>,
  deferred: APIInteractionResponse,
): Promise<APIInteractionResponse> {
  const working = work().catch((error: Error): Answering => {
    app.log(`interaction failed: ${error.name}: ${error.message}`);
    return { response: ephemeral(SOMETHING_WENT_WRONG) };
  });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>(
    (resolve) => (timer = setTimeout(() => resolve(undefined), Math.max(0, receivedAt + ANSWER_WITHIN_MS - Date.now()))),
  );
  const inTime = await Promise.race([working, late]);
  clearTimeout(timer);
  if (inTime) {
    const { afterwards, response, card } = inTime;
    const clicked: ClickedCopy = card ? { kind: "shows", version: card.version } : { kind: "untouched" };
    if (afterwards) setImmediate(() => void markThenAnnounce(afterwards, clicked).catch(logFailure(app)));
    return response;
  }
  app.log("not done within the answer budget: answered deferred, finishing through the interaction's webhook");
  void working.then((done) => finishDeferred(app, interaction, deferred, done)).catch(logFailure(app));
  return deferred;
}

/** The clicked copy's row first, so the card refresh the announcement queues spares it; announced whatever became of that. */
async function markThenAnnounce(afterwards: Afterwards, clicked: ClickedCopy): Promise<void> {
  try {
    await afterwards.markClicked(clicked);
  } finally {
    await afterwards.announce();
  }
}

/**
 * How long a deferred click's announcement waits for the card's edit: enough for a retry after a one-off failure (its
 * backoff is 0.25–0.5 s) to land and the clicked copy to be marked, so the card refresh spares it. An edit failing for
 * longer may go on for RETRY_BUDGET_MS: every other copy, the thread lines and the issue events don't wait for it, and
 * the refresh redraws the clicked copy too (its row still has the version from before the click).
 */
const ANNOUNCE_WAITS_FOR_EDIT_MS = 2_000;

/**
 * After a deferred answer: the new card edits the original response; a line is a followup (or the "thinking…" reply,
 * edited). The change is announced once the edit is over (the clicked copy marked first), or after
 * ANNOUNCE_WAITS_FOR_EDIT_MS alongside it; at once beside a followup.
 */
async function finishDeferred(
  app: DiscordApp,
  interaction: { token: string; application_id: string },
  deferred: APIInteractionResponse,
  { response, card, afterwards }: Answering,
): Promise<void> {
  const settings = app.config.discord!;
  const webhook = new InteractionWebhook(discordRest(settings), settings.applicationId || interaction.application_id, interaction.token);
  const data = "data" in response ? response.data : undefined;
  let announcing: Promise<void> | undefined;
  const announce = () => (announcing ??= afterwards ? afterwards.announce().catch(logFailure(app)) : Promise.resolve());
  let clicked: ClickedCopy = { kind: "untouched" };
  try {
    let sent;
    if (card) {
      let drawn = card.version;
      const announceAnyway = setTimeout(() => void announce(), ANNOUNCE_WAITS_FOR_EDIT_MS);
      try {
        sent = await webhook.editOriginal(card.message, {
          redraw: async () => {
            const again = await card.redraw();
            drawn = again.version;
            return again.message;
          },
        });
      } finally {
        clearTimeout(announceAnyway);
      }
      clicked = clickedCopyAfterEdit(sent, drawn, { refreshWentAhead: announcing !== undefined });
    } else if (deferred.type === InteractionResponseType.DeferredMessageUpdate) {
      void announce();
      sent = await webhook.followup(data);
    } else {
      // The deferred reply's flags were set when it was deferred; an edit can't change them.
      const { flags: _flags, ...edit } = (data ?? {}) as Record<string, unknown>;
      sent = await webhook.editOriginal(edit);
    }
    if (sent.kind !== "ok")
      app.log(`a deferred answer could not be sent: ${sent.kind}${sent.kind === "error" ? ` ${sent.status} (${sent.code ?? "-"})` : ""}`);
  } finally {
    try {
      await afterwards?.markClicked(clicked);
    } finally {
      // The change is announced whatever became of the answer.
      await announce();
    }
  }
}

const logFailure = (app: DiscordApp) => (error: Error) => app.log(`work after the answer failed: ${error.name}: ${error.message}`);

const GUILD_NOT_ALLOWED = "Triage Relay isn't allowed to serve this server. Ask whoever runs it to add the server to DISCORD_ALLOWED_GUILDS.";

function guildAllowed(app: DiscordApp, guildId: string): boolean {
  const allowed = app.config.discord!.allowedGuilds;
  return allowed.length === 0 || allowed.includes(guildId);
}

/** The guild an interaction belongs to, or why it can't be served. */
function guildOf(app: DiscordApp, interaction: { guild_id?: string }): { guildId?: string; refused?: string } {
  if (interaction.guild_id && !guildAllowed(app, interaction.guild_id)) return { refused: GUILD_NOT_ALLOWED };
  return { guildId: interaction.guild_id };
}

/** The guild is recorded on its first interaction (no gateway, so no GUILD_CREATE). */
async function served(app: DiscordApp, interaction: { guild_id?: string }): Promise<{ guildId?: string; refused?: string }> {
  const guild = guildOf(app, interaction);
  if (guild.guildId) await new DiscordGuilds(app.storage).recordSeen(guild.guildId);
  return guild;
}

async function onClick(app: DiscordApp, interaction: ComponentInteraction, raw: Record<string, unknown>): Promise<Answering> {
  const user = interactionUser(interaction);
  const embeds = (raw.message as { embeds?: { footer?: { text?: string } }[] } | undefined)?.embeds;
  const payload = decodeDiscordComponent(interaction.data.custom_id, interaction.data.values, embeds);
  if (!payload || !user) return { response: ephemeral("That button isn't one of Triage Relay's (or no longer works). Nothing was changed.") };
  let { guildId, refused } = await served(app, interaction);
  if (refused) return { response: ephemeral(refused) };
  // A card in a DM: the person's identity is the guild's the card was sent for.
  if (!guildId) {
    const copies = await new CardRepository(app.storage).list(payload.issueId);
    const copy = copies.find((c) => c.provider === "discord" && c.messageId === interaction.message.id);
    guildId = copy?.provider === "discord" ? copy.guildId : undefined;
    // A DM carries no guild_id: the allow-list applies to the guild the card was sent for.
    if (guildId && !guildAllowed(app, guildId)) return { response: ephemeral(GUILD_NOT_ALLOWED) };
  }
  if (!guildId)
    return { response: ephemeral("I can't tell which server this card belongs to, so nothing was changed. Act on it in the server's channel.") };
  const scope = guildId;
  const label = user.global_name || user.username;
  const result = await runCardClick<string>(
    { provider: "discord", scope, issueId: payload.issueId, requested: payload.action },
    {
      identify: async () => {
        const { identity } = await app.identities.lookup("discord", scope, user.id);
        return identity ? ({ person: identity.person, label, surface: "discord" } satisfies Actor) : ({ label, surface: "discord" } satisfies Actor);
      },
      promptToLink: async () => {
        app.log("click from an unlinked user: link prompt shown, nothing changed");
        const url = await linkUrl(app.config, {
          provider: "discord",
          scope,
          chatUserId: user.id,
          chatUserName: label,
          confirm: { kind: "discord", userId: user.id },
        });
        return linkWords(url, "To act on issues from Discord, link your Discord account to your work account first. Nothing was changed.");
      },
      decide: () => discordIntentOf(app.identities, { action: payload, guildId: scope, clickerId: user.id, resolved: interaction.data.resolved }),
      apply: (action, actor) => actOnIssueAnnounceLater(app.storage, payload.issueId, action, actor),
      log: app.log,
    },
  );
  switch (result.kind) {
    case "answer":
      return { response: ephemeral(result.text) };
    case "link-needed":
      return { response: ephemeral(result.prompt) };
    case "hand-off":
    case "given-away":
      return { response: ephemeral("That click couldn't be applied just now. Try again in a moment.") };
  }
  const { acted, outcome } = result;
  // Once the clicker has the answer: what the clicked copy shows is recorded, so the card refresh the announcement
  // queues brings every other copy (Teams, Slack, other Discord channels) up to date but not this one.
  const afterwards: Afterwards = {
    markClicked: async (clicked) => {
      if (clicked.kind !== "untouched") await markClickedCopy(app, payload.issueId, interaction.message, clicked);
    },
    announce: () => acted.announce(),
  };
  if (!outcome.issue) return { response: ephemeral(clickNotice(outcome) ?? "Nothing was changed."), afterwards };
  const message = await renderDiscordCopy(app, outcome.issue, scope, clickNotice(outcome));
  let latest: DrawnCard = { message, version: outcome.issue.version };
  const redraw = async (): Promise<DrawnCard> => {
    try {
      const stored = (await new IssueRepository(app.storage).get(payload.issueId))?.issue;
      // No notice once the issue has moved on: it answered the click about the state the click found.
      if (stored && stored.version > latest.version) latest = { message: await renderDiscordCopy(app, stored, scope), version: stored.version };
    } catch (error) {
      app.log(`the card could not be drawn again for a retried edit (${(error as Error).name}): the last drawing goes`);
    }
    return latest;
  };
  return { response: { type: InteractionResponseType.UpdateMessage, data: message }, card: { ...latest, redraw }, afterwards };
}

/**
 * The version the clicked copy shows, so the card refresh this change announced doesn't spend an edit on it. If the
 * issue has moved on meanwhile (this answer landed after a newer one), the copy is recorded behind and a refresh
 * redraws it (`markRendered`). A copy an edit may or may not have reached is recorded as showing version 0, older
 * than any: redrawn.
 */
async function markClickedCopy(app: DiscordApp, issueId: string, message: { id: string; channel_id: string }, clicked: ClickedCopy) {
  await new CardRepository(app.storage).markClickedRendered(
    { provider: "discord", issueId, channelId: message.channel_id, messageId: message.id },
    clicked.kind === "shows" ? clicked.version : 0,
  );
}

async function onCommand(app: DiscordApp, interaction: CommandInteraction): Promise<APIInteractionResponse> {
  const user = interactionUser(interaction);
  if (interaction.data.name !== "triage" || !user) return ephemeral("I only know `/triage`.");
  const { guildId, refused } = await served(app, interaction);
  if (refused) return ephemeral(refused);
  if (!guildId) return ephemeral("Use `/triage` in a server channel: your link and subscriptions belong to a server.");
  const [subcommand] = interaction.data.options ?? [];
  // The one command flow reads words: an option becomes its value, `thread: false` the `--no-thread` flag, and the
  // project option (the whole name, spaces and all) the name as it is typed in a message, in quotes if need be.
  const words = (subcommand?.options ?? []).flatMap((option) => {
    if (option.name === "thread") return option.value === false ? ["--no-thread"] : [];
    return [option.name === "project" ? projectFromOption(String(option.value)) : String(option.value)];
  });
  const text = [subcommand?.name ?? "help", ...words].join(" ");
  const label = user.global_name || user.username;
  const channelId = interaction.channel_id;
  const reply = await runCommand<string>(
    {
      provider: "discord",
      scope: guildId,
      chatUserId: user.id,
      text,
      conversation: {
        key: `discord:${channelId ?? guildId}`,
        personal: false,
        ...(channelId ? { target: { provider: "discord" as const, channelId } } : {}),
      },
    },
    {
      storage: app.storage,
      identities: app.identities,
      log: app.log,
      sendLink: async () =>
        linkWords(
          await linkUrl(app.config, {
            provider: "discord",
            scope: guildId,
            chatUserId: user.id,
            chatUserName: label,
            confirm: { kind: "discord", userId: user.id },
          }),
          "Here's your link.",
        ),
    },
  );
  return ephemeral(reply.kind === "link" ? reply.answer : discordWords(reply));
}
