// ≥ 2,000 mutated inputs per HTTP endpoint, validly signed (Teams token, Slack signature) so the
// parsers behind the checks are reached. Counts statuses; a 5xx, an unanswered request or a host
// crash is a finding. Inputs come from fast-check with the run's seed: the same seed replays them.
import fc from "fast-check";
import type { Activity } from "../dev/emulators/teams";
import { bearer, formBody, interactionBody, postSlackSigned, postTeams, send, type Answer } from "./inbound";
import { mutationsOf, mutationsOfAny, sampleInputs } from "./mutate";
import { inPool } from "./pool";
import { viaProxy, type SoakStack } from "./stack";
import type { Target } from "./targets";

export interface EndpointFuzz {
  endpoint: string;
  sent: number;
  byStatus: Record<string, number>;
  serverErrors: number;
  /** No HTTP answer at all (reset, timeout). */
  unanswered: number;
  /** The first few 5xx / unanswered inputs, shortened, with their index in the seeded sample. */
  examples: { index: number; status: number; input: string }[];
}

export interface HttpFuzzResult {
  endpoints: EndpointFuzz[];
  hostCrashes: number;
}

interface Endpoint {
  name: string;
  inputs: fc.Arbitrary<unknown>;
  send(input: unknown): Promise<Answer>;
}

const MAX_EXAMPLES = 3;

export async function runHttpFuzz(
  stack: SoakStack,
  target: Target,
  perEndpoint: number,
  seed: number,
  concurrency: number,
  progress: (line: string) => void,
): Promise<HttpFuzzResult> {
  const endpoints = await fuzzEndpoints(stack, target);
  const results: EndpointFuzz[] = [];
  const crashesBefore = stack.unexpectedExits();
  // A crashed host is restarted (once per crash) so the rest of the inputs still reach an app.
  let handled = crashesBefore;
  let restarting: Promise<void> = Promise.resolve();
  const recover = () => {
    if (stack.unexpectedExits() > handled) {
      handled = stack.unexpectedExits();
      restarting = stack.crashAndRestart();
    }
    return restarting;
  };
  for (const [n, endpoint] of endpoints.entries()) {
    const inputs = sampleInputs(endpoint.inputs, perEndpoint, seed + n);
    const result: EndpointFuzz = { endpoint: endpoint.name, sent: 0, byStatus: {}, serverErrors: 0, unanswered: 0, examples: [] };
    const deadline = Date.now() + 5 * 60_000;
    await inPool(inputs, concurrency, deadline, async (input, index) => {
      await recover();
      const answer = await endpoint.send(input);
      result.sent++;
      const key = answer.failed ? "no answer" : String(answer.status);
      result.byStatus[key] = (result.byStatus[key] ?? 0) + 1;
      if (answer.failed) result.unanswered++;
      else if (answer.status >= 500) result.serverErrors++;
      if ((answer.failed || answer.status >= 500) && result.examples.length < MAX_EXAMPLES) {
        result.examples.push({ index, status: answer.status, input: excerpt(input) });
      }
    });
    progress(`fuzz ${endpoint.name}: ${result.sent} sent, ${result.serverErrors} 5xx, ${result.unanswered} unanswered`);
    results.push(result);
  }
  return { endpoints: results, hostCrashes: stack.unexpectedExits() - crashesBefore };
}

async function fuzzEndpoints(stack: SoakStack, target: Target): Promise<Endpoint[]> {
  const { slack, teams } = target;
  const linkToken = await realLinkToken(stack, target);
  const teamsSeeds: Activity[] = [
    viaProxy(stack, target.teamsResolve()),
    viaProxy(stack, stack.teams.message({ conversation: teams.channel, from: teams.user, text: "help" })),
    viaProxy(stack, stack.teams.message({ conversation: stack.teams.personalConversation(teams.user), from: teams.user, text: "status" })),
  ];
  const command = (text: string) =>
    stack.slack.slashCommand({ teamId: slack.teamId, user: slack.user, channel: slack.channel, command: "/triage", text });
  const issuePath = (id: unknown) => `${stack.api}/issues/${pathSegment(String(id))}`;
  return [
    {
      name: "POST /api/messages",
      inputs: mutationsOfAny(teamsSeeds),
      async send(input) {
        const serviceUrl = isRecord(input) && typeof input.serviceUrl === "string" ? input.serviceUrl : stack.teamsServiceUrl;
        return postTeams(stack, undefined, `Bearer ${await stack.teams.signChannelToken({ serviceUrl })}`, JSON.stringify(input) ?? "null");
      },
    },
    {
      name: "POST /api/slack/commands",
      inputs: mutationsOfAny([command("help"), command("status"), command("subscribe fuzzed info"), command("unsubscribe fuzzed")]),
      send: (input) => postSlackSigned(stack, "commands", isRecord(input) ? formBody(asStrings(input)) : String(JSON.stringify(input))),
    },
    {
      name: "POST /api/slack/interactions",
      inputs: mutationsOf(target.slackResolve()),
      send: (input) => postSlackSigned(stack, "interactions", interactionBody(input)),
    },
    {
      name: "POST /api/slack/events",
      inputs: mutationsOfAny([
        stack.slack.eventCallback({
          teamId: slack.teamId,
          event: { type: "app_mention", user: slack.user, channel: slack.channel, text: "<@U0BOT> help", ts: "1700000000.000100" },
        }),
        stack.slack.eventCallback({ teamId: slack.teamId, event: { type: "app_home_opened", user: slack.user, channel: "D0FUZZ0001", tab: "home" } }),
        { token: "verification", challenge: "fuzz-challenge", type: "url_verification" },
      ]),
      send: (input) => postSlackSigned(stack, "events", JSON.stringify(input) ?? "null"),
    },
    {
      name: "GET, PATCH /api/issues/{id}",
      inputs: mutationsOfAny([
        { method: "PATCH", id: target.issueId, body: { action: "assign", actor: "ana@contoso.com", assignee: "me" } },
        { method: "PATCH", id: target.issueId, body: { action: "ignore", actor: "ana@contoso.com", ignore: { mode: "minutes", minutes: 30 } } },
        { method: "GET", id: target.issueId },
      ]),
      send: (input) => {
        const request = isRecord(input) ? input : { id: input };
        const method = request.method === "GET" ? "GET" : "PATCH";
        return send(
          issuePath(request.id),
          method === "GET" ? { method } : { method, headers: { "content-type": "application/json" }, body: JSON.stringify(request.body) ?? "" },
        );
      },
    },
    {
      name: "GET /api/link",
      inputs: mutationsOf({ token: linkToken }),
      send: (input) => send(`${stack.api}/link?${query(input)}`, { method: "GET" }),
    },
    {
      name: "GET /api/link/callback",
      inputs: mutationsOf({ query: { code: "abc", state: "state-value", iss: stack.oidc.issuer }, cookie: "triage_link=session-value" }),
      send: (input) =>
        send(`${stack.api}/link/callback?${query(isRecord(input) ? input.query : input)}`, { method: "GET", headers: cookieHeader(input) }),
    },
    {
      name: "POST /api/link/confirm",
      inputs: mutationsOf({ form: { confirm: "token-value" }, cookie: "triage_link=session-value" }),
      send: (input) =>
        send(`${stack.api}/link/confirm`, {
          headers: { "content-type": "application/x-www-form-urlencoded", ...cookieHeader(input) },
          body: isRecord(input) && isRecord(input.form) ? formBody(asStrings(input.form)) : String(JSON.stringify(input)),
        }),
    },
    {
      name: "GET /api/slack/oauth_redirect",
      inputs: mutationsOf({ query: { code: "1234.5678.abcdef", state: "state-value" }, cookie: "slack_oauth_state=value" }),
      send: (input) =>
        send(`${stack.api}/slack/oauth_redirect?${query(isRecord(input) ? input.query : input)}`, { method: "GET", headers: cookieHeader(input) }),
    },
  ];
}

/** A link token as the app issues it (`/triage link`), so mutations start from something it accepts. */
async function realLinkToken(stack: SoakStack, target: Target): Promise<string> {
  const { slack } = target;
  const body = formBody(
    stack.slack.slashCommand({ teamId: slack.teamId, user: slack.user, channel: slack.channel, command: "/triage", text: "link" }),
  );
  const answer = await postSlackSigned(stack, "commands", body);
  return /token=([A-Za-z0-9._~%-]+)/.exec(answer.text)?.[1] ?? "no-token-issued";
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function asStrings(fields: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, typeof value === "string" ? value : String(JSON.stringify(value))]));
}

function query(value: unknown): string {
  if (!isRecord(value)) return `q=${pathSegment(String(JSON.stringify(value)))}`;
  return Object.entries(asStrings(value))
    .map(([key, v]) => `${pathSegment(key)}=${pathSegment(v)}`)
    .join("&");
}

/** encodeURIComponent, but total: lone surrogates are sent as their (invalid) UTF-8 bytes, %-encoded. */
function pathSegment(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return [...Buffer.from(text, "utf8")].map((byte) => `%${byte.toString(16).padStart(2, "0")}`).join("");
  }
}

/** Header values must be Latin-1 without CR/LF/NUL: other characters become "?" (what reaches a real server). */
function cookieHeader(input: unknown): Record<string, string> {
  const cookie = isRecord(input) ? input.cookie : undefined;
  if (cookie === undefined) return {};
  return { cookie: String(typeof cookie === "string" ? cookie : JSON.stringify(cookie)).replace(/[^\x20-\x7e\xa0-\xff]/g, "?") };
}

function excerpt(input: unknown): string {
  const text = JSON.stringify(input) ?? String(input);
  return text.length > 400 ? `${text.slice(0, 400)}… (${text.length} chars)` : text;
}
