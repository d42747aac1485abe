import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { IdentityRepository } from "../shared/identity/identities";
import { getRuntime } from "../shared/runtime";
import { readVerifiedSlackBody, refused } from "../shared/slack/inbound";
import { handleClick } from "../shared/slack/interactions";
import { blockActionsSchema, schemaFailure } from "../shared/slack/payloads";

/** POST /api/slack/interactions: button and menu clicks on cards. Always answered within Slack's 3 s. */
export async function slackInteractions(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const receivedAt = Date.now();
  const { config, storage, slackTokens } = getRuntime();
  const body = await readVerifiedSlackBody(request, config, context);
  if (!body.ok) return body.response;
  let json: unknown;
  try {
    json = JSON.parse(new URLSearchParams(body.raw).get("payload") ?? "");
  } catch {
    return refused(context, 400, "no JSON payload field");
  }
  const kind = (json as { type?: unknown })?.type;
  if (kind !== "block_actions") {
    context.log(`Slack interaction of type ${String(kind).slice(0, 40)} ignored`);
    return { status: 200 };
  }
  const parsed = blockActionsSchema.safeParse(json);
  if (!parsed.success) return refused(context, 400, `block_actions malformed at ${schemaFailure(parsed.error)}`);
  const app = { config, storage, slackTokens: slackTokens!, identities: new IdentityRepository(storage), log: (line: string) => context.log(line) };
  await handleClick(app, parsed.data, receivedAt);
  return { status: 200 };
}
