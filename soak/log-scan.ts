// Every line every host process printed during the run, searched for what must never be logged:
// configured secrets, Slack tokens, JWTs, email addresses and message bodies (texts people or
// producers wrote, planted with a marker). Examples in the report are redacted.

export interface LogFinding {
  category: LogCategory;
  lines: number;
  examples: string[];
}

export type LogCategory = "secrets" | "Slack tokens" | "JWTs" | "emails" | "message bodies";

export interface LogScanResult {
  lines: number;
  findings: LogFinding[];
}

/** Planted in alert descriptions and chat messages; never expected in a log line. */
export const BODY_MARKER = "soak-body-marker-7f3a";

export function scanLogs(lines: string[], secrets: string[]): LogScanResult {
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const patterns: Record<LogCategory, RegExp> = {
    secrets: new RegExp(
      secrets
        .filter((s) => s.length >= 8)
        .map(escape)
        .join("|") || "(?!)",
      "g",
    ),
    "Slack tokens": /xox[abposer]-[A-Za-z0-9-]{8,}|xoxe\.xox[bp]-[A-Za-z0-9-]+/g,
    JWTs: /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g,
    // Teams conversation ids (`19:…@thread.tacv2`, `…@unq.gbl.spaces`) are shaped like addresses but aren't.
    emails: /[A-Za-z0-9._%+-]+@(?!thread\.|unq\.gbl\.)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g,
    "message bodies": new RegExp(`${escape(BODY_MARKER)}|Fault test \\d+|Soak target \\w+|body text of a fuzzed alert`, "g"),
  };
  const findings = (Object.keys(patterns) as LogCategory[]).map((category) => {
    const pattern = patterns[category];
    const matching = lines.filter((line) => new RegExp(pattern.source).test(line));
    return {
      category,
      lines: matching.length,
      examples: matching.slice(0, 3).map((line) => redact(redactAll(line, patterns))),
    };
  });
  return { lines: lines.length, findings };
}

function redactAll(line: string, patterns: Record<LogCategory, RegExp>): string {
  return (Object.keys(patterns) as LogCategory[]).reduce((text, category) => text.replace(patterns[category], `[${category}]`), line);
}

function redact(line: string): string {
  const short = line.replace(/^\S+\s+/, "");
  return short.length > 220 ? `${short.slice(0, 220)}…` : short;
}
