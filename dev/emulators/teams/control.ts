// Loopback-only HTTP control API, for the dev chat page and anything outside the emulator's process.
import type { IncomingMessage } from "node:http";
import { z } from "zod";
import { errorReply, isLoopbackUrl, type Reply } from "./http.js";
import type { TeamsEmulator } from "./emulator.js";
import type { Activity } from "./types.js";

const operation = z.enum([
  "createConversation",
  "send",
  "reply",
  "update",
  "getMember",
  "pagedMembers",
  "token",
  "openIdMetadata",
  "jwks",
  "unknown",
]);
const status = z.literal([200, 401, 403, 404, 412, 429, 500, 502, 503, 504]);

const schemas = {
  fault: z.object({
    operation: operation.optional(),
    conversationId: z.string().optional(),
    status,
    disconnect: z.boolean().optional(),
    retryAfterSec: z.number().nonnegative().optional(),
    code: z.string().optional(),
    times: z.number().int().positive().optional(),
    delayMs: z.number().int().nonnegative().max(120_000).optional(),
  }),
  activity: z.object({
    botEndpoint: z.url().refine(isLoopbackUrl, "botEndpoint must be a loopback URL"),
    activity: z.looseObject({ type: z.string() }),
    token: z.string().nullable().optional(),
  }),
  user: z.object({ email: z.string().min(3), name: z.string().min(1), aadObjectId: z.string().optional(), upn: z.string().optional() }),
  /** Members by Teams id, Entra object id or email. */
  team: z.object({ name: z.string().min(1), members: z.array(z.string()).default([]) }),
  rateLimits: z.object({ enabled: z.boolean(), retryAfter: z.boolean().optional() }),
  /** Team by team id or General channel id; user by Teams id, Entra object id or email. */
  teamMemberRemoval: z.object({ team: z.string().min(1), user: z.string().min(1), withObjectId: z.boolean().optional() }),
  userRemoval: z.object({ user: z.string().min(1), withObjectId: z.boolean().optional() }),
};

export async function handleControl(emulator: TeamsEmulator, req: IncomingMessage, url: URL, body: unknown): Promise<Reply> {
  const route = `${req.method} ${url.pathname.replace(/\/+$/, "")}`;
  switch (route) {
    case "GET /_emulator/calls":
      return ok(emulator.calls);
    case "DELETE /_emulator/calls":
      emulator.clearCalls();
      return { status: 204 };
    case "GET /_emulator/messages":
      return ok(emulator.messages(url.searchParams.get("conversationId") ?? undefined));
    case "GET /_emulator/world":
      return ok(emulator.snapshot());
    case "POST /_emulator/faults":
      return parsed(schemas.fault, body, (fault) => {
        emulator.injectFault(fault);
        return { status: 204 };
      });
    case "DELETE /_emulator/faults":
      emulator.clearFaults();
      return { status: 204 };
    case "POST /_emulator/rate-limits":
      return parsed(schemas.rateLimits, body, ({ enabled, retryAfter }) => {
        emulator.enforceRateLimits(enabled, { retryAfter });
        return { status: 204 };
      });
    case "POST /_emulator/activities":
      return parsed(schemas.activity, body, async ({ botEndpoint, activity, token }) =>
        ok(await emulator.post(botEndpoint, activity as Activity, token === undefined ? {} : { token })),
      );
    case "POST /_emulator/users":
      return parsed(schemas.user, body, (user) => ({ status: 201, body: emulator.addUser(user) }));
    case "POST /_emulator/teams":
      return parsed(schemas.team, body, (team) => ({ status: 201, body: emulator.addTeam(team) }));
    // These change the world and return the activities Teams sends for the change; POST them with /activities.
    case "POST /_emulator/team-members/remove":
      return parsed(schemas.teamMemberRemoval, body, (removal) => ok({ activity: emulator.memberRemovedFromTeam(removal) }));
    case "POST /_emulator/users/remove":
      return parsed(schemas.userRemoval, body, (removal) => ok({ activities: emulator.userLeftOrganisation(removal) }));
    default:
      return errorReply(404, "NotFound", `No control route ${route}`);
  }
}

const ok = (body: unknown): Reply => ({ status: 200, body });

async function parsed<T>(schema: z.ZodType<T>, body: unknown, handle: (value: T) => Reply | Promise<Reply>): Promise<Reply> {
  const result = schema.safeParse(body);
  if (!result.success) return errorReply(400, "BadArgument", z.prettifyError(result.error));
  try {
    return await handle(result.data);
  } catch (error) {
    return errorReply(400, "BadArgument", error instanceof Error ? error.message : String(error));
  }
}
