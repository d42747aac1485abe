// Requests to the app's HTTP endpoints as the platforms send them, with every header under the
// caller's control (forgeries need headers no honest client sends).
import { signSlackRequest } from "../dev/emulators/slack";
import type { Activity } from "../dev/emulators/teams";
import { SLACK_SIGNING_SECRET, type SoakStack } from "./stack";

export interface Answer {
  status: number;
  text: string;
  /** The request never got an answer (connection reset, timeout): counted apart from statuses. */
  failed?: string;
}

const TIMEOUT_MS = 15_000;

export async function send(url: string, init: { method?: string; headers?: Record<string, string>; body?: string }): Promise<Answer> {
  try {
    const response = await fetch(url, {
      method: init.method ?? "POST",
      headers: init.headers,
      body: init.body,
      redirect: "manual",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    return { status: response.status, text: await response.text() };
  } catch (error) {
    return { status: 0, text: "", failed: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
}

/** POST /api/messages with this Authorization header (undefined: none) and body (default: the activity as JSON). */
export function postTeams(stack: SoakStack, activity: Activity | undefined, authorization: string | undefined, rawBody?: string): Promise<Answer> {
  return send(`${stack.api}/messages`, {
    headers: { "content-type": "application/json; charset=utf-8", ...(authorization === undefined ? {} : { authorization }) },
    body: rawBody ?? JSON.stringify(activity),
  });
}

export async function bearer(stack: SoakStack, serviceUrl = stack.teamsServiceUrl): Promise<string> {
  return `Bearer ${await stack.teams.signChannelToken({ serviceUrl })}`;
}

export type SlackEndpoint = "commands" | "interactions" | "events";

export const SLACK_CONTENT_TYPE: Record<SlackEndpoint, string> = {
  commands: "application/x-www-form-urlencoded",
  interactions: "application/x-www-form-urlencoded",
  events: "application/json",
};

/** POST /api/slack/<endpoint> with exactly these headers (signature headers included by the caller). */
export function postSlack(stack: SoakStack, endpoint: SlackEndpoint, body: string, headers: Record<string, string>): Promise<Answer> {
  return send(`${stack.api}/slack/${endpoint}`, { headers: { "content-type": SLACK_CONTENT_TYPE[endpoint], ...headers }, body });
}

/** Signed as Slack signs: valid now unless options say otherwise. */
export function slackSignature(
  body: string,
  options: { timestamp?: number | string; secret?: string; version?: string } = {},
): Record<string, string> {
  return { ...signSlackRequest(SLACK_SIGNING_SECRET, body, options) };
}

export function postSlackSigned(stack: SoakStack, endpoint: SlackEndpoint, body: string): Promise<Answer> {
  return postSlack(stack, endpoint, body, slackSignature(body));
}

export const formBody = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
export const interactionBody = (payload: unknown) => formBody({ payload: JSON.stringify(payload) });
