// The bot installed where a test posts, as the installation rows the app keeps (what Teams' conversationUpdate
// and Slack's OAuth install would have left): for tests that run the app's workflows in process.
import type { StorageClients } from "../../shared/storage/clients";
import { SlackInstallations } from "../../shared/storage/slack-installations";
import { TeamsInstallations } from "../../shared/storage/teams-installations";

/** Teams channels the bot is in, each an active installation at `serviceUrl`. */
export async function installInTeamsChannels(
  storage: StorageClients,
  at: { tenantId: string; serviceUrl: string },
  conversationIds: string[],
): Promise<void> {
  for (const conversationId of conversationIds) {
    await new TeamsInstallations(storage).save({
      tenantId: at.tenantId,
      conversationId,
      serviceUrl: at.serviceUrl,
      conversationType: "channel",
      active: true,
      updatedAt: new Date().toISOString(),
    });
  }
}

/** A Slack workspace with the bot installed: its bot token stored, active. */
export async function installInSlackWorkspace(storage: StorageClients, workspace: { teamId: string; botToken: string }): Promise<void> {
  await new SlackInstallations(storage).save({
    teamId: workspace.teamId,
    botToken: workspace.botToken,
    active: true,
    updatedAt: new Date().toISOString(),
  });
}
