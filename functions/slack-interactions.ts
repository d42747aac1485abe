import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { IdentityRepository } from "../shared/identity/identities";
import { getRuntime } from "../shared/runtime";
import { readVerifiedSlackBody, refused } from "../shared/slack/inbound";
import { handleBlockActions } from "../shared/slack/interactions";
import { blockActionsSchema, schemaFailure } from "../shared/slack/payloads";
import { ephemeral, postToResponseUrl } from "../shared/slack/responses";

/** POST /api/slack/interactions: button and menu clicks on cards. Always answered within Slack's 3 s. */
export async function slackInteractions(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
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
  try {
    const app = { config, storage, slackTokens: slackTokens!, identities: new IdentityRepository(storage), log: (line: string) => context.log(line) };
    await handleBlockActions(app, parsed.data);
  } catch (error) {
    // Slack shows a bare warning icon for anything but a quick 200: answer 200 and say what happened instead.
    context.error(`Slack click failed: ${(error as Error).name}: ${(error as Error).message}`);
    if (parsed.data.response_url) {
      await postToResponseUrl(parsed.data.response_url, ephemeral("Something went wrong on our side, so this may not have been applied. Try again in a moment."), 1000);
    }
  }
  return { status: 200 };
}
