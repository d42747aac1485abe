import { normaliseServiceUrl } from "./auth";
import type { BotTokenProvider } from "./credentials";

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
 * allowlist before attaching a token (botframework-connector's trustServiceUrl does nothing).
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

  async send(serviceUrl: string, conversationId: string, activity: OutgoingActivity): Promise<{ id: string }> {
    return this.call("send", serviceUrl, "POST", `v3/conversations/${encodeURIComponent(conversationId)}/activities`, activity);
  }

  async update(serviceUrl: string, conversationId: string, activityId: string, activity: OutgoingActivity): Promise<{ id: string }> {
    const path = `v3/conversations/${encodeURIComponent(conversationId)}/activities/${encodeURIComponent(activityId)}`;
    return this.call("update", serviceUrl, "PUT", path, { ...activity, id: activityId });
  }

  async createPersonalConversation(serviceUrl: string, botId: string, memberId: string, tenantId: string): Promise<{ id: string }> {
    return this.call("createConversation", serviceUrl, "POST", "v3/conversations", {
      isGroup: false,
      bot: { id: `28:${botId}` },
      members: [{ id: memberId }],
      tenantId,
      channelData: { tenant: { id: tenantId } },
    });
  }

  async getMember(serviceUrl: string, conversationId: string, memberId: string): Promise<TeamsMember> {
    const path = `v3/conversations/${encodeURIComponent(conversationId)}/members/${encodeURIComponent(memberId)}`;
    return this.call("getMember", serviceUrl, "GET", path);
  }

  async pagedMembers(
    serviceUrl: string,
    conversationId: string,
    continuationToken?: string,
  ): Promise<{ members: TeamsMember[]; continuationToken?: string }> {
    const query = new URLSearchParams({ pageSize: "500" });
    if (continuationToken) query.set("continuationToken", continuationToken);
    return this.call("pagedMembers", serviceUrl, "GET", `v3/conversations/${encodeURIComponent(conversationId)}/pagedmembers?${query}`);
  }

  private async call<T>(operation: string, serviceUrl: string, method: string, path: string, body?: unknown): Promise<T> {
    if (!this.isTrusted(serviceUrl)) throw new UntrustedServiceUrlError(safeHost(serviceUrl));
    const url = new URL(path, normaliseServiceUrl(serviceUrl));
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
