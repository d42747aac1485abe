import type { IncomingMessage, ServerResponse } from "node:http";
import type { InteractionDetails, Provider } from "oidc-provider";
import { SCOPES } from "./configuration";
import { loginPage, messagePage } from "./pages";
import type { Directory, Person } from "./people";

const MAX_FORM_BYTES = 16 * 1024;
/** Prompts answered by the login page. */
const PICK_ACCOUNT = new Set(["login", "select_account"]);

export type InteractionAction = "show" | "login" | "abort";

export interface InteractionContext {
  provider: Provider;
  directory: Directory;
  isSessionNotFound(error: unknown): boolean;
  onSignIn(person: Person, clientId: string): void;
  log(line: string): void;
}

/**
 * Our side of oidc-provider's interactions: `GET /interaction/:uid` shows the login page (for the login and
 * select_account prompts) or grants consent straight away, `POST …/login` checks the person, `POST …/abort`
 * answers `access_denied`.
 */
export async function handleInteraction(
  context: InteractionContext,
  action: InteractionAction,
  uid: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  try {
    const details = await context.provider.interactionDetails(req, res);
    if (details.uid !== uid) return sendHtml(res, 400, expiredPage());
    switch (action) {
      case "show":
        return await show(context, details, req, res);
      case "login":
        return await login(context, details, req, res);
      case "abort":
        return await context.provider.interactionFinished(
          req,
          res,
          { error: "access_denied", error_description: "End-User aborted interaction" },
          { mergeWithLastSubmission: false },
        );
    }
  } catch (error) {
    if (context.isSessionNotFound(error)) return sendHtml(res, 400, expiredPage());
    context.log(`interaction ${action} failed: ${error instanceof Error ? error.stack : String(error)}`);
    sendHtml(res, 500, messagePage("Sign-in error", ["The identity provider failed; see its log."]));
  }
}

async function show(context: InteractionContext, details: InteractionDetails, req: IncomingMessage, res: ServerResponse) {
  if (PICK_ACCOUNT.has(details.prompt.name)) return sendHtml(res, 200, renderLogin(context, details));
  if (details.prompt.name === "consent" && details.session) {
    // Every client is registered by the developer, so consent is implied, as for an admin-consented Entra app.
    const grantId = await grantRequestedScopes(context.provider, details, details.session.accountId);
    return context.provider.interactionFinished(req, res, { consent: { grantId } });
  }
  sendHtml(res, 400, messagePage("Sign-in error", [`Unsupported prompt: ${details.prompt.name}.`]));
}

async function login(context: InteractionContext, details: InteractionDetails, req: IncomingMessage, res: ServerResponse) {
  if (!PICK_ACCOUNT.has(details.prompt.name)) {
    res.writeHead(303, { location: `/interaction/${encodeURIComponent(details.uid)}` }).end();
    return;
  }
  const form = await readForm(req);
  const email = form.get("email") ?? "";
  const checked = context.directory.check(email, form.get("password") ?? "");
  if (!checked.ok) return sendHtml(res, 200, renderLogin(context, details, { error: checked.reason, email }));

  const { person } = checked;
  const grantId = await grantRequestedScopes(context.provider, details, person.sub);
  context.onSignIn(person, details.params.client_id);
  await context.provider.interactionFinished(
    req,
    res,
    // Also resolves a requested select_account. Picking someone other than the signed-in person makes
    // oidc-provider end that session first, through a page that posts itself.
    { select_account: {}, login: { accountId: person.sub }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
}

function renderLogin(context: InteractionContext, details: InteractionDetails, failed?: { error: string; email: string }) {
  const { directory } = context;
  return loginPage({
    uid: details.uid,
    clientId: details.params.client_id,
    people: directory.people.map((person) => ({ person, hasPassword: directory.hasPassword(person) })),
    ...failed,
  });
}

async function grantRequestedScopes(provider: Provider, details: InteractionDetails, accountId: string): Promise<string> {
  const existing = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
  const grant = existing?.accountId === accountId ? existing : new provider.Grant({ accountId, clientId: details.params.client_id });
  const requested = (details.params.scope ?? "openid").split(" ");
  grant.addOIDCScope(requested.filter((scope) => SCOPES.includes(scope)).join(" "));
  return grant.save();
}

function expiredPage(): string {
  return messagePage("Sign-in expired", ["This sign-in has expired or was started in another browser.", "Go back to the app and start again."]);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new Error("form too large");
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
  });
  res.end(html);
}
