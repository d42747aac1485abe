// The subset of host.json the local host honours: HTTP route prefix, queue trigger settings, log levels.
import { readFileSync } from "node:fs";
import type { LogLevel } from "@azure/functions";

export interface QueueSettings {
  batchSize: number;
  newBatchThreshold: number;
  maxDequeueCount: number;
  /** host.json `visibilityTimeout`: the delay before a failed message is retried (not the lease). */
  retryDelayMs: number;
  maxPollingIntervalMs: number;
}

export interface HostConfig {
  routePrefix: string;
  queues: QueueSettings;
  /** The minimum level logged for a function, from `logging.logLevel`. */
  logLevelFor(functionName: string): LogLevel;
}

export const MIN_POLLING_INTERVAL_MS = 100;
const MAX_BATCH_SIZE = 32;
const SEVEN_DAYS_MS = 7 * 24 * 3600 * 1000;
const LOG_LEVELS: readonly LogLevel[] = ["trace", "debug", "information", "warning", "error", "critical", "none"];

export function readHostConfig(path: string): HostConfig {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new Error(`cannot read host.json at ${path}: ${(error as Error).message}`);
  }
  return parseHostConfig(json);
}

export function parseHostConfig(json: unknown): HostConfig {
  const root = asRecord(json, "host.json");
  const extensions = asRecord(root.extensions ?? {}, "extensions");
  const http = asRecord(extensions.http ?? {}, "extensions.http");
  const routePrefix = String(http.routePrefix ?? "api").replace(/^\/+|\/+$/g, "");
  const queues = parseQueueSettings(asRecord(extensions.queues ?? {}, "extensions.queues"));
  const logging = asRecord(root.logging ?? {}, "logging");
  const levels = asRecord(logging.logLevel ?? {}, "logging.logLevel");
  return { routePrefix, queues, logLevelFor: (name) => logLevelFor(levels, name) };
}

/** Defaults are the host's, except maxPollingInterval (the host's is 1 min, 2 s when run locally). */
function parseQueueSettings(queues: Record<string, unknown>): QueueSettings {
  const batchSize = integer(queues.batchSize ?? 16, "batchSize", 1, MAX_BATCH_SIZE);
  return {
    batchSize,
    newBatchThreshold: integer(queues.newBatchThreshold ?? Math.floor(batchSize / 2), "newBatchThreshold", 0),
    maxDequeueCount: integer(queues.maxDequeueCount ?? 5, "maxDequeueCount", 1),
    retryDelayMs: duration(queues.visibilityTimeout ?? "00:00:00", "visibilityTimeout", 0, SEVEN_DAYS_MS),
    maxPollingIntervalMs: duration(queues.maxPollingInterval ?? "00:00:02", "maxPollingInterval", MIN_POLLING_INTERVAL_MS),
  };
}

/** Parses a .NET TimeSpan as host.json writes it: `[d.]hh:mm[:ss[.fffffff]]`. Returns milliseconds. */
export function parseTimeSpan(text: string): number {
  const match = /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?$/.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not a TimeSpan like 00:00:30`);
  const [, days = "0", hours = "0", minutes = "0", seconds = "0", fraction = "0"] = match;
  if (Number(hours) > 23 || Number(minutes) > 59 || Number(seconds) > 59) {
    throw new Error(`"${text}" is not a TimeSpan like 00:00:30`);
  }
  const wholeSeconds = ((Number(days) * 24 + Number(hours)) * 60 + Number(minutes)) * 60 + Number(seconds);
  return wholeSeconds * 1000 + Math.round(Number(`0.${fraction}`) * 1000);
}

function duration(value: unknown, name: string, minMs: number, maxMs = Number.MAX_SAFE_INTEGER): number {
  let ms: number;
  try {
    ms = parseTimeSpan(String(value));
  } catch (error) {
    throw new Error(`host.json extensions.queues.${name}: ${(error as Error).message}`);
  }
  if (ms < minMs || ms > maxMs) {
    throw new Error(`host.json extensions.queues.${name} must be between ${minMs} ms and ${maxMs} ms, got "${value}"`);
  }
  return ms;
}

function integer(value: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new Error(`host.json extensions.queues.${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** The most specific of `Function.<name>.User`, `Function.<name>`, `Function`, `default`. */
function logLevelFor(levels: Record<string, unknown>, functionName: string): LogLevel {
  const byCategory = new Map(Object.entries(levels).map(([key, value]) => [key.toLowerCase(), value]));
  const categories = [`function.${functionName}.user`, `function.${functionName}`, "function", "default"];
  const configured = categories.map((category) => byCategory.get(category.toLowerCase())).find((v) => v !== undefined);
  if (configured === undefined) return "information";
  const level = String(configured).toLowerCase() as LogLevel;
  if (!LOG_LEVELS.includes(level)) throw new Error(`host.json logging.logLevel: unknown level "${configured}"`);
  return level;
}

export function isLevelEnabled(level: LogLevel, minimum: LogLevel): boolean {
  return level !== "none" && LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(minimum);
}

function asRecord(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`host.json ${name} must be an object`);
  }
  return value as Record<string, unknown>;
}
