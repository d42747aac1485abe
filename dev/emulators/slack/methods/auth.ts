import { rate } from "../rate-limits";
import type { MethodDef } from "./method";

export const authTest: MethodDef = {
  // Slack lists auth.test as "special" (several thousand per hour); tier 4 is close enough here.
  rate: rate.tier(4),
  handle: ({ workspace }) => ({
    url: `https://${workspace.domain}.slack.com/`,
    team: workspace.name,
    user: workspace.botName,
    team_id: workspace.id,
    user_id: workspace.botUserId,
    bot_id: workspace.botId,
    is_enterprise_install: false,
  }),
};
