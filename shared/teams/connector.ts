import { normaliseServiceUrl } from "./auth";
import type { BotTokenProvider } from "./credentials";
import { bookTeamsCall, TEAMS_CALL_WAIT_MS } from "./pacing";

/** A Bot Connector REST failure, classified for the delivery policy. */
export class ConnectorError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    readonly retryAfterSec: number | undefined,
    operation: string,
  ) {
    super(`Bot Connector ${operation} failed: HTTP ${status}${code ? ` ${code}` : ""}`);
    this.name = "ConnectorError";
  }
}

/**
 * The app's own pacing held the call back: no slot in the tenant's (or the conversation's) budget within the wait the
 * caller allowed. Teams never saw it. It is what a 429 with Retry-After is to every caller (wait, don't count it as
 * a failure), so it is one, with its own code: `retryAfterSec` is when a slot is free.
 */
export class TeamsBudgetSpent extends ConnectorError {
  constructor(operation: string, retryInSeconds: number) {
    super(429, "PacedByTheApp", retryInSeconds, operation);
    this.name = "TeamsBudgetSpent";
    this.message = `Bot Connector ${operation} held back: the app's Teams budget has no slot for it within its wait`;
  }
}

/**
 * Which budget a call spends (its tenant's; a post or an update its conversation's too) and how long it may wait
 * for a slot (default TEAMS_CALL_WAIT_MS). A call made without it books nothing: a delivery's calls, booked before
 * (`withConnector`, delivery/teams-sender.ts).
 */
export interface CallPacing {
  tenantId: string;
  waitMs?: number;
}

/** Thrown before any token leaves the process for a host we don't trust. */
export class UntrustedServiceUrlError extends Error {
  constructor(readonly host: string) {
    super(`service URL host ${host} is not allowed (TEAMS_SERVICE_URL_HOSTS)`);
    this.name = "UntrustedServiceUrlError";
  }
}

export interface TeamsMember {
  id: string;
  name?: string;
  aadObjectId?: string;
  email?: string;
  userPrincipalName?: string;
  tenantId?: string;
}

export interface OutgoingActivity {
  type: "message";
  text?: string;
  summary?: string;
  attachments?: { contentType: string; content: unknown }[];
  [key: string]: unknown;
}

const REQUEST_TIMEOUT_MS = 10_000;

/**
 * The Bot Connector v3 calls the bot makes, over fetch. Checks the service URL's host against the
 * allowlist before attaching a token (botframework-connector's trustServiceUrl does nothing). Given `CallPacing`,
 * a call books its slot in Teams' budgets first (docs/pacing.md) and throws `TeamsBudgetSpent` when none is free in time.
 */
export class TeamsConnector {
  constructor(
    private readonly tokens: BotTokenProvider,
    private readonly allowedHosts: string[],
  ) {}

  isTrusted(serviceUrl: string): boolean {
    try {
      const url = new URL(serviceUrl);
      // A name matches on any port; TLS is required except for loopback emulators.
      const loopback = url.hostname === "127.0.0.1" || url.hostname === "localhost";
      return this.allowedHosts.includes(url.hostname.toLowerCase()) && (url.protocol === "https:" || loopback);
    } catch {
      return false;
    }
  }

  async send(serviceUrl: string, conversationId: string, activity: OutgoingActivity, pacing?: CallPacing): Promise<{ id: string }> {
    const path = `v3/conversations/${encodeURIComponent(conversationId)}/activities`;
    return this.call("send", serviceUrl, "POST", path, activity, pacing && { ...pacing, conversationId });
  }

  async update(
    serviceUrl: string,
    conversationId: string,
    activityId: string,
    activity: OutgoingActivity,
    pacing?: CallPacing,
  ): Promise<{ id: string }> {
    const path = `v3/conversations/${encodeURIComponent(conversationId)}/activities/${encodeURIComponent(activityId)}`;
    return this.call("update", serviceUrl, "PUT", path, { ...activity, id: activityId }, pacing && { ...pacing, conversationId });
  }

  /** Always paced on the tenant's budget: it is known here. */
  async createPersonalConversation(
    serviceUrl: string,
    botId: string,
    memberId: string,
    tenantId: string,
    waitMs = TEAMS_CALL_WAIT_MS,
  ): Promise<{ id: string }> {
    const body = { isGroup: false, bot: { id: `28:${botId}` }, members: [{ id: memberId }], tenantId, channelData: { tenant: { id: tenantId } } };
    return this.call("createConversation", serviceUrl, "POST", "v3/conversations", body, { tenantId, waitMs });
  }

  async getMember(serviceUrl: string, conversationId: string, memberId: string, pacing?: CallPacing): Promise<TeamsMember> {
    const path = `v3/conversations/${encodeURIComponent(conversationId)}/members/${encodeURIComponent(memberId)}`;
    return this.call("getMember", serviceUrl, "GET", path, undefined, pacing);
  }

  async pagedMembers(
    serviceUrl: string,
    conversationId: string,
    continuationToken?: string,
    pacing?: CallPacing,
  ): Promise<{ members: TeamsMember[]; continuationToken?: string }> {
    const query = new URLSearchParams({ pageSize: "500" });
    if (continuationToken) query.set("continuationToken", continuationToken);
    const path = `v3/conversations/${encodeURIComponent(conversationId)}/pagedmembers?${query}`;
    return this.call("pagedMembers", serviceUrl, "GET", path, undefined, pacing);
  }

  /** `pacing.conversationId`: a post or an update, which spends that conversation's budget too. */
  private async call<T>(
    operation: string,
    serviceUrl: string,
    method: string,
    path: string,
    body?: unknown,
    pacing?: CallPacing & { conversationId?: string },
  ): Promise<T> {
    if (!this.isTrusted(serviceUrl)) throw new UntrustedServiceUrlError(safeHost(serviceUrl));
    const url = new URL(path, normaliseServiceUrl(serviceUrl));
    if (pacing) {
      const slot = await bookTeamsCall(pacing, pacing.waitMs ?? TEAMS_CALL_WAIT_MS);
      if (!slot.ok) throw new TeamsBudgetSpent(operation, slot.retryInSeconds);
    }
    for (let attempt = 1; ; attempt++) {
      const token = await this.tokens.token();
      const response = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      if (response.status === 401 && attempt === 1) {
        this.tokens.invalidate();
        continue;
      }
      const text = await response.text();
      if (!response.ok) throw new ConnectorError(response.status, errorCode(text), retryAfter(response.headers.get("retry-after")), operation);
      return (text ? JSON.parse(text) : {}) as T;
    }
  }
}

/**
 * The connector's error code: `{error: {code}}` usually, but a blocked or uninstalled bot gets
 * `{errorCode: 209, message: "{\"subCode\": \"MessageWritesBlocked\", …}"}` with the code inside a JSON string.
 */
export function errorCode(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { error?: { code?: string }; code?: string; errorCode?: number; message?: string };
    if (body.error?.code ?? body.code) return body.error?.code ?? body.code;
    if (typeof body.message === "string") {
      const subCode = /"subCode"\s*:\s*"([A-Za-z]+)"/.exec(body.message)?.[1];
      if (subCode) return subCode;
    }
    return body.errorCode !== undefined ? `errorCode ${body.errorCode}` : undefined;
  } catch {
    return undefined;
  }
}

/** Retry-After as seconds or an HTTP date. */
export function retryAfter(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - Date.now()) / 1000);
}

function safeHost(serviceUrl: string): string {
  try {
    return new URL(serviceUrl).host;
  } catch {
    return "(invalid URL)";
  }
}
