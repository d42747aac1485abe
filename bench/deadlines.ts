// The platforms' deadlines and the app's own settings the figures are read against.
import { join } from "node:path";
import { readHostConfig } from "../dev/host/host-config";
import { ROOT } from "./paths";

/** Slack drops an interaction not answered within 3 s. */
export const SLACK_ACK_MS = 3000;
/** Teams gives up on an invoke after 10–15 s; the lower bound is the one that counts. */
export const TEAMS_INVOKE_MS = 10_000;
/** The app's own target for the clicked Slack message (shared/slack/interactions.ts). */
export const SLACK_REPLACE_GOAL_MS = 2000;
/** host.json `extensions.queues.maxPollingInterval`, as the local host reads it. */
export const MAX_POLLING_MS = readHostConfig(join(ROOT, "host.json")).queues.maxPollingIntervalMs;
/** Slack Tier 3 (chat.update): calls per minute per workspace. */
export { TIER_PER_MINUTE } from "../dev/emulators/slack";
