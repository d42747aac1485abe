// Forged and malformed inbound requests: every kind of forged Teams token and Slack signature we know
// of, oversized, non-JSON and wrong-shaped bodies. Each forged request carries something that would
// change state if it were believed (a subscribe command, a Resolve click, an event), so "state changes
// caused" is measured on the real tables, queues and platform writes, not inferred from the status.
import type { Activity } from "../dev/emulators/teams";
import { nowSeconds } from "../dev/emulators/teams/jwt";
import type { Answer } from "./inbound";
import { bearer, formBody, interactionBody, postSlack, postSlackSigned, postTeams, send, slackSignature, type SlackEndpoint } from "./inbound";
import { inPool, pause } from "./pool";
import { waitUntilQuiet } from "./quiet";
import type { SoakTiming } from "./settings";
import { changesBetween, snapshot } from "./state";
import { viaProxy, type SoakStack } from "./stack";
import type { Target } from "./targets";

export interface ProbeOutcome {
  family: "Teams token" | "Slack signature" | "bad input";
  kind: string;
  endpoint: string;
  status: number;
  failed?: string;
}

export interface ForgedResult {
  probes: ProbeOutcome[];
  teamsKinds: number;
  slackKinds: number;
  stateChanges: number;
  changes: string[];
}

type TeamsForgery = {
  kind: string;
  expect: "401" | "403";
  make(stack: SoakStack, activity: Activity): Promise<{ activity: Activity; authorization?: string }>;
};

const OTHER_APP = "00000000-0000-4000-8000-0000000000ba";

const TEAMS_FORGERIES: TeamsForgery[] = [
  { kind: "no Authorization header", expect: "401", make: async (_s, activity) => ({ activity }) },
  { kind: "empty bearer token", expect: "401", make: async (_s, activity) => ({ activity, authorization: "Bearer " }) },
  { kind: "not a JWT", expect: "401", make: async (_s, activity) => ({ activity, authorization: "Bearer not-a-jwt" }) },
  {
    kind: "Basic scheme",
    expect: "401",
    make: async (_s, activity) => ({ activity, authorization: `Basic ${Buffer.from("bot:password").toString("base64")}` }),
  },
  {
    kind: "alg none",
    expect: "401",
    make: async (s, activity) => ({
      activity,
      authorization: `Bearer ${await s.teams.signChannelToken({ serviceUrl: s.teamsServiceUrl, alg: "none" })}`,
    }),
  },
  {
    kind: "HS256 keyed with the RSA public key",
    expect: "401",
    make: async (s, activity) => ({
      activity,
      authorization: `Bearer ${await s.teams.signChannelToken({ serviceUrl: s.teamsServiceUrl, alg: "HS256" })}`,
    }),
  },
  {
    kind: "signed by an unpublished key",
    expect: "401",
    make: async (s, activity) => ({
      activity,
      authorization: `Bearer ${await s.teams.signChannelToken({ serviceUrl: s.teamsServiceUrl, key: "unpublished" })}`,
    }),
  },
  {
    kind: "key not endorsed for msteams",
    expect: "401",
    make: async (s, activity) => ({
      activity,
      authorization: `Bearer ${await s.teams.signChannelToken({ serviceUrl: s.teamsServiceUrl, key: "notEndorsed" })}`,
    }),
  },
  {
    kind: "expired (1 h ago)",
    expect: "401",
    make: async (s, activity) => ({
      activity,
      authorization: `Bearer ${await s.teams.signChannelToken({ serviceUrl: s.teamsServiceUrl, expiresInSec: -3600 })}`,
    }),
  },
  {
    kind: "not valid yet (nbf in 1 h)",
    expect: "401",
    make: async (s, activity) => ({
      activity,
      authorization: `Bearer ${await s.teams.signChannelToken({ serviceUrl: s.teamsServiceUrl, notBeforeSec: 3600 })}`,
    }),
  },
  {
    kind: "no exp claim",
    expect: "401",
    make: async (s, activity) => ({
      activity,
      authorization: `Bearer ${await s.teams.signChannelToken({ serviceUrl: s.teamsServiceUrl, extraClaims: { exp: undefined } })}`,
    }),
  },
  {
    kind: "audience of another bot",
    expect: "401",
    make: async (s, activity) => ({
      activity,
      authorization: `Bearer ${await s.teams.signChannelToken({ serviceUrl: s.teamsServiceUrl, audience: OTHER_APP })}`,
    }),
  },
  {
    kind: "issuer not Bot Framework",
    expect: "401",
    make: async (s, activity) => ({
      activity,
      authorization: `Bearer ${await s.teams.signChannelToken({ serviceUrl: s.teamsServiceUrl, issuer: "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/" })}`,
    }),
  },
  {
    kind: "serviceurl claim for another service",
    expect: "401",
    make: async (s, activity) => ({
      activity,
      authorization: `Bearer ${await s.teams.signChannelToken({ serviceUrl: "http://127.0.0.1:9/teams/" })}`,
    }),
  },
  {
    kind: "no serviceurl claim",
    expect: "401",
    make: async (s, activity) => ({
      activity,
      authorization: `Bearer ${await s.teams.signChannelToken({ serviceUrl: s.teamsServiceUrl, extraClaims: { serviceurl: undefined } })}`,
    }),
  },
  {
    kind: "payload edited after signing",
    expect: "401",
    make: async (s, activity) => ({
      activity,
      authorization: `Bearer ${s.teams.tamper(await s.teams.signChannelToken({ serviceUrl: s.teamsServiceUrl }), { exp: nowSeconds() + 86_400 * 365 })}`,
    }),
  },
  {
    kind: "signature stripped",
    expect: "401",
    make: async (s, activity) => ({
      activity,
      authorization: `Bearer ${(await s.teams.signChannelToken({ serviceUrl: s.teamsServiceUrl })).replace(/\.[^.]*$/, ".")}`,
    }),
  },
  {
    kind: "signature of another token",
    expect: "401",
    make: async (s, activity) => {
      const mine = (await s.teams.signChannelToken({ serviceUrl: s.teamsServiceUrl, audience: OTHER_APP })).split(".");
      const theirs = (await s.teams.signChannelToken({ serviceUrl: s.teamsServiceUrl })).split(".");
      return { activity, authorization: `Bearer ${mine[0]}.${mine[1]}.${theirs[2]}` };
    },
  },
  {
    kind: "valid token, activity from another channel (webchat)",
    expect: "401",
    make: async (s, activity) => ({ activity: { ...activity, channelId: "webchat" }, authorization: await bearer(s) }),
  },
  {
    kind: "valid token, activity from the Bot Framework Emulator channel",
    expect: "401",
    make: async (s, activity) => ({ activity: { ...activity, channelId: "emulator" }, authorization: await bearer(s) }),
  },
  {
    kind: "valid token for an untrusted service URL",
    expect: "403",
    make: async (s, activity) => ({
      activity: { ...activity, serviceUrl: "https://attacker.example/teams/" },
      authorization: await bearer(s, "https://attacker.example/teams/"),
    }),
  },
  {
    kind: "valid token, tenant not allowed",
    expect: "403",
    make: async (s, activity) => ({
      activity: {
        ...activity,
        channelData: { ...(activity.channelData as object), tenant: { id: "0badbad0-0000-4000-8000-000000000000" } },
        conversation: { ...(activity.conversation as object), tenantId: "0badbad0-0000-4000-8000-000000000000" },
      },
      authorization: await bearer(s),
    }),
  },
];

type SlackForgery = { kind: string; headers(body: string): Record<string, string>; body?(body: string): string };
const now = () => Math.floor(Date.now() / 1000);

const SLACK_FORGERIES: SlackForgery[] = [
  { kind: "no signature headers", headers: () => ({}) },
  { kind: "no timestamp header", headers: (b) => ({ "x-slack-signature": slackSignature(b)["x-slack-signature"]! }) },
  { kind: "no signature header", headers: (b) => ({ "x-slack-request-timestamp": slackSignature(b)["x-slack-request-timestamp"]! }) },
  { kind: "signed with another secret", headers: (b) => slackSignature(b, { secret: "not-the-signing-secret-0123456789ab" }) },
  { kind: "signed with an empty secret", headers: (b) => slackSignature(b, { secret: "" }) },
  { kind: "timestamp 6 minutes old (replay)", headers: (b) => slackSignature(b, { timestamp: now() - 360 }) },
  { kind: "timestamp 6 minutes ahead", headers: (b) => slackSignature(b, { timestamp: now() + 360 }) },
  { kind: "timestamp in milliseconds", headers: (b) => slackSignature(b, { timestamp: Date.now() }) },
  { kind: "timestamp not a number", headers: (b) => ({ ...slackSignature(b), "x-slack-request-timestamp": "now" }) },
  { kind: "negative timestamp", headers: (b) => slackSignature(b, { timestamp: -now() }) },
  {
    kind: "signature over another timestamp",
    headers: (b) => ({ ...slackSignature(b, { timestamp: now() - 1 }), "x-slack-request-timestamp": String(now()) }),
  },
  { kind: "signature version v1", headers: (b) => slackSignature(b, { version: "v1" }) },
  {
    kind: "signature truncated",
    headers: (b) => ({ ...slackSignature(b), "x-slack-signature": slackSignature(b)["x-slack-signature"]!.slice(0, 40) }),
  },
  { kind: "empty signature", headers: (b) => ({ ...slackSignature(b), "x-slack-signature": "" }) },
  { kind: "bare v0= signature", headers: (b) => ({ ...slackSignature(b), "x-slack-signature": "v0=" }) },
  {
    kind: "signature in upper-case hex of another body",
    headers: (b) => ({
      ...slackSignature(b),
      "x-slack-signature": slackSignature(`${b}x`)["x-slack-signature"]!.toUpperCase().replace("V0=", "v0="),
    }),
  },
  { kind: "body edited after signing", headers: (b) => slackSignature(b), body: (b) => `${b}&text=resolve` },
  { kind: "body padded after signing", headers: (b) => slackSignature(b), body: (b) => `${b} ` },
  {
    kind: "two signatures in one header",
    headers: (b) => ({ ...slackSignature(b), "x-slack-signature": `v0=${"0".repeat(64)}, ${slackSignature(b)["x-slack-signature"]}` }),
  },
];

export async function runForged(stack: SoakStack, target: Target, timing: SoakTiming, progress: (line: string) => void): Promise<ForgedResult> {
  const probes: ProbeOutcome[] = [];
  const record = (family: ProbeOutcome["family"], kind: string, endpoint: string, answer: Answer) => {
    probes.push({ family, kind, endpoint, status: answer.status, ...(answer.failed ? { failed: answer.failed } : {}) });
  };
  await waitUntilQuiet(stack, timing, 60_000);
  const before = await snapshot(stack);

  const requests: (() => Promise<void>)[] = [];
  for (const forgery of TEAMS_FORGERIES) {
    for (const activity of teamsActivities(stack, target)) {
      requests.push(async () => {
        const forged = await forgery.make(stack, activity.activity);
        record("Teams token", forgery.kind, `/api/messages (${activity.name})`, await postTeams(stack, forged.activity, forged.authorization));
      });
    }
  }
  for (const forgery of SLACK_FORGERIES) {
    for (const [endpoint, body] of slackBodies(stack, target)) {
      requests.push(async () =>
        record(
          "Slack signature",
          forgery.kind,
          `/api/slack/${endpoint}`,
          await postSlack(stack, endpoint, forgery.body?.(body) ?? body, forgery.headers(body)),
        ),
      );
    }
  }
  for (const probe of badInputs(stack, target)) requests.push(async () => record("bad input", probe.kind, probe.endpoint, await probe.send()));
  await inPool(requests, 8, Date.now() + 120_000, (request) => request());

  // Anything a forged request set in motion shows up within a queue poll (2 s) or two.
  await pause(Math.max(4_000, timing.settleMs));
  const { count, what } = changesBetween(before, await snapshot(stack));
  progress(`forged: ${probes.length} requests, ${count} state change(s)`);
  return { probes, teamsKinds: TEAMS_FORGERIES.length, slackKinds: SLACK_FORGERIES.length, stateChanges: count, changes: what };
}

/** A channel command that would add a subscription, and a Resolve click on a live card. */
function teamsActivities(stack: SoakStack, target: Target): { name: string; activity: Activity }[] {
  const { teams } = target;
  return [
    {
      name: "subscribe command",
      activity: viaProxy(stack, stack.teams.message({ conversation: teams.channel, from: teams.user, text: "subscribe forged info" })),
    },
    { name: "Resolve click", activity: viaProxy(stack, target.teamsResolve()) },
  ];
}

function slackBodies(stack: SoakStack, target: Target): [SlackEndpoint, string][] {
  const { slack } = target;
  return [
    [
      "commands",
      formBody(
        stack.slack.slashCommand({
          teamId: slack.teamId,
          user: slack.user,
          channel: slack.channel,
          command: "/triage",
          text: "subscribe forged info",
        }),
      ),
    ],
    ["interactions", interactionBody(target.slackResolve())],
    ["events", JSON.stringify(stack.slack.eventCallback({ teamId: slack.teamId, event: { type: "app_uninstalled" } }))],
  ];
}

function badInputs(stack: SoakStack, target: Target): { kind: string; endpoint: string; send(): Promise<Answer> }[] {
  const big = (bytes: number) => "x".repeat(bytes);
  const teamsActivity = viaProxy(stack, target.teamsResolve());
  const slackCommand = formBody(
    stack.slack.slashCommand({
      teamId: target.slack.teamId,
      user: target.slack.user,
      channel: target.slack.channel,
      command: "/triage",
      text: "subscribe forged info",
    }),
  );
  return [
    {
      kind: "oversized (300 KiB)",
      endpoint: "/api/messages",
      send: async () => postTeams(stack, undefined, await bearer(stack), JSON.stringify({ ...teamsActivity, text: big(300 * 1024) })),
    },
    {
      kind: "oversized (70 KiB)",
      endpoint: "/api/slack/commands",
      send: () => postSlackSigned(stack, "commands", `${slackCommand}&pad=${big(70 * 1024)}`),
    },
    {
      kind: "oversized (70 KiB)",
      endpoint: "/api/slack/interactions",
      send: () => postSlackSigned(stack, "interactions", interactionBody({ ...target.slackResolve(), pad: big(70 * 1024) })),
    },
    {
      kind: "oversized (70 KiB)",
      endpoint: "/api/slack/events",
      send: () => postSlackSigned(stack, "events", JSON.stringify({ type: "event_callback", pad: big(70 * 1024) })),
    },
    {
      kind: "oversized (20 KiB)",
      endpoint: "/api/issues/{id}",
      send: () =>
        send(`${stack.api}/issues/${encodeURIComponent(target.issueId)}`, {
          method: "PATCH",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ status: "resolved", pad: big(20 * 1024) }),
        }),
    },
    { kind: "not JSON", endpoint: "/api/messages", send: async () => postTeams(stack, undefined, await bearer(stack), "{ this is not json") },
    { kind: "not JSON", endpoint: "/api/slack/events", send: () => postSlackSigned(stack, "events", "{ this is not json") },
    {
      kind: "not JSON (payload field)",
      endpoint: "/api/slack/interactions",
      send: () => postSlackSigned(stack, "interactions", formBody({ payload: "{ not json" })),
    },
    {
      kind: "not JSON",
      endpoint: "/api/issues/{id}",
      send: () =>
        send(`${stack.api}/issues/${encodeURIComponent(target.issueId)}`, {
          method: "PATCH",
          headers: { "content-type": "application/json" },
          body: "{ not json",
        }),
    },
    { kind: "wrong shape (JSON array)", endpoint: "/api/messages", send: async () => postTeams(stack, undefined, await bearer(stack), "[]") },
    {
      kind: "wrong shape (type is a number)",
      endpoint: "/api/messages",
      send: async () => postTeams(stack, { ...teamsActivity, type: 42 as unknown as string }, await bearer(stack)),
    },
    {
      kind: "wrong shape (no conversation)",
      endpoint: "/api/messages",
      send: async () => postTeams(stack, { ...teamsActivity, conversation: undefined }, await bearer(stack)),
    },
    { kind: "wrong shape (JSON array)", endpoint: "/api/slack/events", send: () => postSlackSigned(stack, "events", "[]") },
    {
      kind: "wrong shape (no payload field)",
      endpoint: "/api/slack/interactions",
      send: () => postSlackSigned(stack, "interactions", formBody({ text: "resolve" })),
    },
    {
      kind: "wrong shape (block_actions without actions)",
      endpoint: "/api/slack/interactions",
      send: () => postSlackSigned(stack, "interactions", interactionBody({ ...target.slackResolve(), actions: "resolve" })),
    },
    {
      kind: "wrong shape (no command fields)",
      endpoint: "/api/slack/commands",
      send: () => postSlackSigned(stack, "commands", formBody({ text: "subscribe forged info" })),
    },
    {
      kind: "wrong shape (status is a number)",
      endpoint: "/api/issues/{id}",
      send: () =>
        send(`${stack.api}/issues/${encodeURIComponent(target.issueId)}`, {
          method: "PATCH",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ status: 5 }),
        }),
    },
  ];
}

/** A forged request must be refused (401/403), bad input refused with a 4xx; never a 2xx or a 5xx. */
export function probeRefused(probe: ProbeOutcome): boolean {
  return probe.status >= 400 && probe.status < 500;
}
