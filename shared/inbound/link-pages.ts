import type { HttpResponseInit, InvocationContext } from "@azure/functions";
import type { Linker } from "../identity/linking";
import type { Runtime } from "../runtime";

/** What the link pages work with, from the process-wide services and this invocation's log. */
export function linkerFor(runtime: Runtime, context: InvocationContext): Linker {
  const { config, storage, teams, slackTokens } = runtime;
  return { config, storage, teams: teams.connector, slackTokens, log: (line) => context.log(line) };
}

/** A link page as the HTTP answer, setting the session cookie when the page comes with one. */
export function pageResponse({
  cookie,
  ...page
}: {
  status: number;
  headers: Record<string, string>;
  body: string;
  cookie?: string;
}): HttpResponseInit {
  return { ...page, headers: { ...page.headers, ...(cookie ? { "set-cookie": cookie } : {}) } };
}
