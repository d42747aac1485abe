// One line per log entry: `<time> <LEVEL> [<source>] <text>`. The host never logs request or message bodies.
import { format } from "node:util";
import type { LogHandler, LogLevel } from "@azure/functions";
import { isLevelEnabled } from "./host-config";

export type LineSink = (line: string) => void;

const LABELS: Record<LogLevel, string> = {
  trace: "TRACE",
  debug: "DEBUG",
  information: "INFO",
  warning: "WARN",
  error: "ERROR",
  critical: "CRIT",
  none: "NONE",
};

export interface HostLogger {
  info(text: string): void;
  warn(text: string): void;
  error(text: string, error?: unknown): void;
  /** The `logHandler` of one invocation, filtered by host.json `logging.logLevel`. */
  forInvocation(functionName: string, invocationId: string, minimum: LogLevel): LogHandler;
}

export function createLogger(sink: LineSink): HostLogger {
  const write = (level: LogLevel, source: string, text: string) => sink(`${new Date().toISOString()} ${LABELS[level].padEnd(5)} [${source}] ${text}`);
  return {
    info: (text) => write("information", "host", text),
    warn: (text) => write("warning", "host", text),
    error: (text, error) => write("error", "host", error === undefined ? text : `${text}: ${describeError(error)}`),
    forInvocation:
      (functionName, invocationId, minimum) =>
      (level, ...args) => {
        if (isLevelEnabled(level, minimum)) write(level, `${functionName} ${invocationId.slice(0, 8)}`, format(...args));
      },
  };
}

/** Message and stack, never anything the error may hold beyond that (bodies, headers). */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  return `non-Error thrown: ${format(error)}`;
}
