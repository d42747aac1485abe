import type { TeamsActivity } from "../../teams/activity";
import type { AppContext } from "../../context";
import { errorReply, OK, type BotReply } from "../../teams/invoke-replies";
import type { AnswerDeadline } from "../answer-deadline";
import { onExecuteAction, onSubmitAction } from "./card-actions";
import { onCommand } from "./commands";
import { onConversationUpdate, onInstallationUpdate, rememberConversation } from "./lifecycle";
export type { BotReply } from "../../teams/invoke-replies";

/** Routes one authenticated activity from an allowed tenant; a click is answered by `deadline` (counted from its arrival). */
export async function handleTeamsActivity(ctx: AppContext, activity: TeamsActivity, deadline: AnswerDeadline): Promise<BotReply> {
  switch (activity.type) {
    case "conversationUpdate":
      await onConversationUpdate(ctx, activity);
      return OK;
    case "installationUpdate":
      await onInstallationUpdate(ctx, activity);
      return OK;
    case "message":
      await rememberConversation(ctx, activity, { overwrite: false });
      if (isCardSubmit(activity)) return onSubmitAction(ctx, activity, deadline);
      await onCommand(ctx, activity);
      return OK;
    case "invoke":
      if (activity.name === "adaptiveCard/action") return onExecuteAction(ctx, activity, deadline);
      ctx.log(`Teams invoke ${String(activity.name).slice(0, 60)} not supported`);
      return errorReply(400, "NotSupported", "This bot does not handle that kind of request.");
    default:
      return OK;
  }
}

/** The Action.Submit fallback of a card button (Teams mobile): a message carrying the button's data. */
export function isCardSubmit(activity: TeamsActivity): boolean {
  return activity.type === "message" && typeof activity.value === "object" && activity.value !== null;
}
