// The page: polls the server every second for the conversations and the selected one's messages,
// and turns clicks and typing into app calls made through the emulators as the chosen person.
import { appProblem, get, post } from "./api.js";
import { setupComposer, showComposer } from "./composer.js";
import { discordBody } from "./discord.js";
import { h, openUrl } from "./dom.js";
import { MessageList } from "./messages.js";
import { setupQueues } from "./queues.js";
import { renderSidebar } from "./sidebar.js";
import { slackBody } from "./slack.js";
import { teamsBody } from "./teams.js";

const POLL_MS = 1000;
const $ = (id) => document.getElementById(id);

const page = {
  conversations: [],
  timeline: [],
  slashCommand: "/triage",
  key: keyFromHash(),
  actingAs: remembered("acting-as", {}),
  mobile: remembered("teams-client", "desktop") === "mobile",
};
/** Per message, what only this browser sees: an invoke's answer card, a note, a click in flight. Dropped when the message changes. */
const local = new Map();
const messages = new MessageList($("messages"));
setupQueues($("open-queues"), $("queues"));

// ---- polling

let timer;
let ticket = 0;

async function poll() {
  clearTimeout(timer);
  const mine = ++ticket;
  const conversation = current();
  const query = new URLSearchParams({ c: page.key ?? "", as: (conversation && actor(conversation)) ?? "" });
  try {
    const data = await get(`/api/poll?${query}`);
    if (mine !== ticket) return;
    $("connection").textContent = "";
    Object.assign(page, { conversations: data.conversations, timeline: data.timeline, slashCommand: data.slashCommand });
    if (!current() && page.conversations.length > 0) return select(page.conversations[0].key, { replace: true });
    render();
  } catch {
    if (mine === ticket) $("connection").textContent = "Can't reach the page server: is npm start still running?";
  } finally {
    if (mine === ticket) timer = setTimeout(poll, POLL_MS);
  }
}

// ---- rendering

function render() {
  const conversation = current();
  renderSidebar($("conversations"), page.conversations, page.key);
  renderHeader(conversation);
  showComposer($("composer"), $("say-prefix"), conversation, { slashCommand: page.slashCommand, canAct: Boolean(conversation && actor(conversation)) });
  if (conversation) messages.show(conversation.key, page.timeline, (entry) => draw(conversation, entry), conversation.ref.platform);
}

function renderHeader(conversation) {
  $("conversation-group").textContent = conversation?.group ?? "";
  $("conversation-title").textContent = conversation ? titleOf(conversation) : "Pick a conversation";
  document.title = conversation ? `${titleOf(conversation)} · Triage Relay dev chat` : "Triage Relay · dev chat";
  $("install").hidden = conversation?.ref.platform !== "teams";
  document.querySelector("main").classList.toggle("slack-conversation", conversation?.ref.platform === "slack");
  document.querySelector("main").classList.toggle("discord-conversation", conversation?.ref.platform === "discord");
  $("send-alert").disabled = !conversation;

  const select = $("acting-as");
  const people = conversation?.people ?? [];
  const signature = JSON.stringify(people);
  if (select.dataset.signature !== signature) {
    select.dataset.signature = signature;
    select.replaceChildren(
      ...(people.length ? people.map((p) => h("option", { value: p.id }, p.name)) : [h("option", { value: "" }, "Nobody: see people.slack")]),
    );
  }
  select.disabled = people.length < 2;
  select.value = (conversation && actor(conversation)) ?? "";
}

function draw(conversation, entry) {
  const id = `${conversation.key}|${entry.id}`;
  const baseline = baselineOf(entry);
  // The message changed: what only this browser saw gives way, unless it is a newer render than the message
  // (the refresh of an earlier click landing after this click's answer) — never an older card over a newer one.
  const mine = local.get(id);
  if (mine && mine.baseline !== baseline && !(mine.card && entry.version !== undefined && cardVersion(mine.card) > entry.version)) local.delete(id);
  const view = local.get(id) ?? {};
  const canAct = entry.actionable && Boolean(actor(conversation)) && !view.busy;
  const body =
    conversation.ref.platform === "discord"
      ? () => discordBody(entry, { canAct, users: conversation.pickable ?? conversation.people, onAction: (a) => discordAction(conversation, entry, a) })
      : conversation.ref.platform === "teams"
      ? () => teamsBody(entry, { cards: view.card ? [view.card] : (entry.cards ?? []), mobile: page.mobile, onAction: (a) => teamsAction(conversation, entry, a) })
      : () => slackBody(entry, { canAct, users: conversation.pickable ?? conversation.people, onAction: (a, element) => slackAction(conversation, entry, a, element) });
  return { signature: JSON.stringify([baseline, view, page.mobile, canAct]), body, note: view.note, busy: view.busy };
}

// ---- actions

async function teamsAction(conversation, entry, action) {
  if (action.type === "Action.OpenUrl") {
    if (!openUrl(action.url)) status("That link isn't a web address, so it wasn't opened.");
    return;
  }
  const as = actor(conversation);
  if (!as) return status("There's nobody to act as here.");
  if (!entry.actionable) return;
  const call = { key: conversation.key, as, activityId: entry.id };
  if (action.type === "Action.Execute") {
    await act(conversation, entry, async () => invokeOutcome(await post("/api/teams/invoke", { ...call, verb: action.verb, data: action.data, actionId: action.id })));
  } else if (action.type === "Action.Submit") {
    await act(conversation, entry, async () => ({ note: appProblem(await post("/api/teams/submit", { ...call, data: action.data })) }));
  }
}

/** The issue version a Teams card shows: the newest `cardVersion` its actions carry (-1 when none). */
function cardVersion(card) {
  let found = -1;
  const visit = (node) => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== "object") return;
    const version = Number(node.payload?.cardVersion);
    if (node.payload?.cardVersion !== undefined && Number.isSafeInteger(version)) found = Math.max(found, version);
    Object.values(node).forEach(visit);
  };
  visit(card);
  return found;
}

/** Teams shows an invoke's card in place of the clicked one (for the clicker), a message as a notice. */
function invokeOutcome(result) {
  const problem = appProblem(result);
  if (problem) return { note: problem };
  const body = result.body ?? {};
  if (body.type === "application/vnd.microsoft.card.adaptive" && body.value) return { card: body.value };
  if (body.type === "application/vnd.microsoft.activity.message") return { note: String(body.value ?? "") };
  if (body.statusCode >= 400) return { note: `The app answered the click with ${body.statusCode}: ${body.value?.message ?? body.type ?? "no reason"}` };
  return {};
}

async function slackAction(conversation, entry, action, element) {
  // A link button opens its URL, and Slack still tells the app about the click.
  if (element.url && !openUrl(element.url)) status("That link isn't a web address, so it wasn't opened.");
  const as = actor(conversation);
  if (!entry.actionable || !as) return;
  await act(conversation, entry, async () => ({ note: appProblem(await post("/api/slack/click", { key: conversation.key, as, ts: entry.id, action })) }));
}

async function discordAction(conversation, entry, action) {
  const as = actor(conversation);
  if (!entry.actionable || !as) return;
  const call = { key: conversation.key, as, messageId: entry.id, customId: action.custom_id, ...(action.values ? { values: action.values } : {}) };
  await act(conversation, entry, async () => ({ note: appProblem(await post("/api/discord/click", call)) }));
}

/** The message as stored, without its thread: a reply arriving doesn't change the message it replies to. */
function baselineOf(entry) {
  const { thread: _thread, ...message } = entry;
  return JSON.stringify(message);
}

async function act(conversation, entry, call) {
  const id = `${conversation.key}|${entry.id}`;
  const baseline = baselineOf(entry);
  local.set(id, { baseline, busy: true });
  render();
  let outcome;
  try {
    outcome = await call();
  } catch (error) {
    outcome = { note: error.message };
  }
  local.set(id, { baseline, ...(outcome.card ? { card: outcome.card } : {}), ...(outcome.note ? { note: outcome.note } : {}) });
  render();
  await poll();
}

async function say(text) {
  const conversation = current();
  if (!conversation) return false;
  try {
    const result = await post("/api/say", { key: conversation.key, as: actor(conversation), text });
    status(appProblem(result) ?? "");
    return true;
  } catch (error) {
    status(error.message);
    return false;
  } finally {
    await poll();
  }
}

async function sendAlert() {
  const conversation = current();
  if (!conversation) return;
  try {
    const queued = await post("/api/alert", { key: conversation.key });
    status(`Queued a test alert, “${queued.title}” (issue ${queued.issueId}). Its card shows up here in a few seconds if the app can post here.`);
  } catch (error) {
    status(`The test alert wasn't queued: ${error.message}`);
  }
}

async function install() {
  const conversation = current();
  const as = conversation && actor(conversation);
  if (!as) return;
  try {
    const result = await post("/api/teams/install", { key: conversation.key, as });
    const who = conversation.people.find((p) => p.id === as)?.name;
    const where = conversation.kind === "personal" ? "their 1:1 chat" : titleOf(conversation);
    status(appProblem(result) ?? `${who} added Triage Relay to ${where}.`);
  } catch (error) {
    status(error.message);
  }
  await poll();
}

// ---- selection and people

function current() {
  return page.conversations.find((c) => c.key === page.key);
}

function select(key, { replace = false } = {}) {
  const hash = `#${encodeURIComponent(key)}`;
  if (replace) history.replaceState(null, "", hash);
  else location.hash = hash;
  page.key = key;
  return poll();
}

function keyFromHash() {
  try {
    return decodeURIComponent(location.hash.slice(1)) || undefined;
  } catch {
    return undefined;
  }
}

/** Remembered per platform (per workspace in Slack); a 1:1 chat has only its member. */
function actor(conversation) {
  const people = conversation.people;
  const scope = actorScope(conversation);
  const chosen = page.actingAs[scope];
  return (people.some((p) => p.id === chosen) ? chosen : people[0]?.id) ?? undefined;
}

function actorScope(conversation) {
  const { ref } = conversation;
  return ref.platform === "teams" ? "teams" : ref.platform === "slack" ? `slack:${ref.teamId}` : "discord";
}

function titleOf(conversation) {
  return conversation.ref.platform !== "teams" && conversation.kind === "channel" ? `#${conversation.label}` : conversation.label;
}

function status(text) {
  $("status").textContent = text;
}

function remembered(name, fallback) {
  try {
    return JSON.parse(localStorage.getItem(`chat-page.${name}`) ?? "null") ?? fallback;
  } catch {
    return fallback;
  }
}

function remember(name, value) {
  localStorage.setItem(`chat-page.${name}`, JSON.stringify(value));
}

// ---- wiring

$("acting-as").addEventListener("change", (event) => {
  const conversation = current();
  if (!conversation) return;
  const scope = actorScope(conversation);
  page.actingAs = { ...page.actingAs, [scope]: event.target.value };
  remember("acting-as", page.actingAs);
  poll();
});
$("teams-client").value = page.mobile ? "mobile" : "desktop";
$("teams-client").addEventListener("change", (event) => {
  page.mobile = event.target.value === "mobile";
  remember("teams-client", event.target.value);
  render();
});
$("send-alert").addEventListener("click", sendAlert);
$("install").addEventListener("click", install);
setupComposer($("composer"), say);
window.addEventListener("hashchange", () => {
  page.key = keyFromHash();
  poll();
});
poll();
