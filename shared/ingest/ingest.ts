import type { HttpRequest } from "@azure/functions";
import { alertSchema, alertTargetSchema, type AlertTarget, type SchemaProblem } from "../domain/alert";
import { issueActionMessageSchema } from "../domain/recovery";
import { releaseMessageSchema } from "../domain/release-notice";
import type { Config } from "../config";
import { BodyTooLargeError, readBody } from "../http";
import { QUEUES, type StorageClients } from "../storage/clients";
import { normalizeAlertmanager, normalizeGrafana } from "./alertmanager";
import { normalizeAlerts } from "./alerts";
import { normalizeAzureMonitor } from "./azure-monitor";
import { presentedToken, sentrySignatureValid, tokenAccepted } from "./auth";
import { problemsOf, type IngestOptions, type Normalized, type QueueMessage } from "./common";
import { normalizeSentry } from "./sentry";

export const INGEST_SOURCES = ["alertmanager", "grafana", "azure-monitor", "sentry", "alerts"] as const;
export type IngestSource = (typeof INGEST_SOURCES)[number];

export const MAX_INGEST_BYTES = 1024 * 1024;
/** An Azure Storage queue message holds 64 KiB, and the Functions host reads base64. */
const MAX_QUEUE_MESSAGE_BYTES = 64 * 1024;
const SEND_CONCURRENCY = 16;
const queueBytes = (message: QueueMessage) => Math.ceil(Buffer.byteLength(JSON.stringify(message), "utf8") / 3) * 4;

export interface IngestAnswer {
  status: number;
  body: unknown;
  /** One line for the log: never a token, a body or an email. */
  log: string;
}

const NORMALIZERS: Record<Exclude<IngestSource, "sentry">, (payload: unknown, options: IngestOptions) => Normalized> = {
  alertmanager: normalizeAlertmanager,
  grafana: normalizeGrafana,
  "azure-monitor": normalizeAzureMonitor,
  alerts: normalizeAlerts,
};

/**
 * POST /api/ingest/{source}: authenticate, read (≤ 1 MiB), normalize, validate every resulting message
 * against the queue's own schema, then put them all on `alerts`. A batch is taken whole or not at all:
 * one bad alert in a group refuses the group (400 with every path) and nothing is enqueued.
 */
export async function ingest(request: HttpRequest, settings: Config["ingest"], storage: StorageClients): Promise<IngestAnswer> {
  const source = request.params.source ?? "";
  if (!settings)
    return { status: 404, body: { error: "Ingest is off (INGEST_TOKENS is not set)." }, log: `Ingest ${source.slice(0, 40)}: 404, ingest is off` };
  if (!(INGEST_SOURCES as readonly string[]).includes(source)) {
    return { status: 404, body: { error: `Unknown source. Use one of: ${INGEST_SOURCES.join(", ")}.` }, log: `Ingest: 404, unknown source` };
  }
  const query = new URL(request.url).searchParams;
  const unauthorized = (why: string): IngestAnswer => ({
    status: 401,
    body: { error: "Unauthorized." },
    log: `Ingest ${source}: 401, ${why}; nothing enqueued`,
  });
  if (source !== "sentry") {
    const token = presentedToken(request.headers.get("authorization"), query);
    if (!token) return unauthorized("no token (Authorization: Bearer or ?token=)");
    if (!tokenAccepted(token, settings.tokens)) return unauthorized("token not accepted");
  }

  let raw: string;
  try {
    raw = await readBody(request, MAX_INGEST_BYTES);
  } catch (error) {
    if (error instanceof BodyTooLargeError)
      return { status: 413, body: { error: "The body is larger than 1 MiB." }, log: `Ingest ${source}: 413, body over 1 MiB` };
    throw error;
  }
  if (source === "sentry") {
    if (!settings.sentryClientSecret) return unauthorized("SENTRY_CLIENT_SECRET is not set");
    if (!sentrySignatureValid(raw, request.headers.get("sentry-hook-signature"), settings.sentryClientSecret))
      return unauthorized("bad or missing Sentry-Hook-Signature");
  }

  let payload: unknown;
  try {
    payload = JSON.parse(raw);
  } catch {
    return badRequest(source, "The body is not JSON.", [{ path: "", message: "expected a JSON body" }]);
  }
  const options = optionsFrom(query);
  if (!options.ok) return badRequest(source, "Bad query parameters.", options.issues);

  const normalized =
    source === "sentry"
      ? normalizeSentry(request.headers.get("sentry-hook-resource"), payload, options.options)
      : NORMALIZERS[source as Exclude<IngestSource, "sentry">](payload, options.options);
  if (!normalized.ok) return badRequest(source, normalized.error, normalized.issues);
  const oversized = normalized.messages.findIndex((message) => queueBytes(message) > MAX_QUEUE_MESSAGE_BYTES);
  if (oversized >= 0) {
    return {
      status: 413,
      body: { error: `Alert ${oversized} is larger than a queue message (64 KiB once base64-encoded): shorten its description or tags.` },
      log: `Ingest ${source}: 413, alert ${oversized} over 64 KiB as a queue message; nothing enqueued`,
    };
  }
  const problems = validate(normalized.messages);
  if (problems.length > 0) return badRequest(source, "The payload does not make valid alerts (alert schema v1).", problems);

  if (normalized.messages.length === 0) {
    return { status: 202, body: { accepted: 0, ignored: normalized.ignored }, log: `Ingest ${source}: 202, nothing to take (${normalized.ignored})` };
  }
  await enqueueAll(storage, normalized.messages);
  const alertIds = normalized.messages.map((message) =>
    "alertId" in message
      ? message.alertId
      : message.kind === "release"
        ? `release:${message.release.project}:${message.release.version}`
        : `${message.issueId}:${message.action.type}`,
  );
  return { status: 202, body: { accepted: alertIds.length, alertIds }, log: `Ingest ${source}: 202, ${alertIds.length} message(s) enqueued` };
}

function badRequest(source: string, error: string, issues: SchemaProblem[]): IngestAnswer {
  const shown = issues.slice(0, 50);
  return {
    status: 400,
    body: { error, issues: shown },
    log: `Ingest ${source}: 400, ${error} Fields: ${shown
      .map((issue) => issue.path || "(root)")
      .slice(0, 10)
      .join(", ")}; nothing enqueued`,
  };
}

/** `?project=` and `?target=msteams:<conversation id>` or `?target=slack:<team id>:<channel id>`. */
function optionsFrom(query: URLSearchParams): { ok: true; options: IngestOptions } | { ok: false; issues: SchemaProblem[] } {
  const options: IngestOptions = {};
  const project = query.get("project")?.trim();
  if (project) options.project = project;
  const target = query.get("target");
  if (target !== null) {
    const parsed = alertTargetSchema.safeParse(targetFrom(target));
    if (!parsed.success) return { ok: false, issues: problemsOf(parsed.error, "target") };
    options.target = parsed.data as AlertTarget;
  }
  return { ok: true, options };
}

function targetFrom(value: string): unknown {
  if (value.startsWith("msteams:")) return { provider: "msteams", conversationId: value.slice("msteams:".length) };
  if (value.startsWith("slack:")) {
    const [teamId, channel] = value.slice("slack:".length).split(":");
    return { provider: "slack", teamId, channel };
  }
  return { provider: value };
}

function validate(messages: QueueMessage[]): SchemaProblem[] {
  return messages.flatMap((message, n) => {
    const kind = (message as { kind?: unknown }).kind;
    const schema = kind === "issue-action" ? issueActionMessageSchema : kind === "release" ? releaseMessageSchema : alertSchema;
    const parsed = schema.safeParse(message);
    return parsed.success ? [] : problemsOf(parsed.error, messages.length > 1 ? `alerts.${n}` : "");
  });
}

/**
 * Puts every message on `alerts`. If storage fails part-way, the ones already sent are deleted again before
 * the error is reported (a 500 the sender retries), so a reported failure leaves nothing half-enqueued.
 */
async function enqueueAll(storage: StorageClients, messages: QueueMessage[]): Promise<void> {
  const queue = await storage.queue(QUEUES.alerts);
  const sent: { messageId: string; popReceipt: string }[] = [];
  try {
    // A few sends at a time: a group of hundreds is answered in well under Alertmanager's timeout.
    for (let start = 0; start < messages.length; start += SEND_CONCURRENCY) {
      // allSettled: every send of the batch has finished (and is known, to delete) before a failure is raised.
      const results = await Promise.allSettled(
        messages.slice(start, start + SEND_CONCURRENCY).map(async (message) => {
          const response = await queue.sendMessage(Buffer.from(JSON.stringify(message), "utf8").toString("base64"));
          sent.push({ messageId: response.messageId, popReceipt: response.popReceipt });
        }),
      );
      const failure = results.find((result) => result.status === "rejected");
      if (failure) throw failure.reason;
    }
  } catch (error) {
    await Promise.allSettled(sent.map((message) => queue.deleteMessage(message.messageId, message.popReceipt)));
    throw error;
  }
}
