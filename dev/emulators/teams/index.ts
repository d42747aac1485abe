// Bot Framework + Bot Connector emulator for Microsoft Teams: plays Microsoft's side at the
// network boundary (OpenID metadata + JWKS, signed channel tokens, App Service managed identity
// endpoint, Bot Connector REST v3) so the app's real clients run against it unchanged.
export { startTeamsEmulator } from "./emulator.js";
export type { PostOptions, TeamsEmulator, TeamsEmulatorOptions } from "./emulator.js";
export type { InvokeActionOptions, MessageOptions } from "./activities.js";
export type { ChannelTokenOptions } from "./channelTokens.js";
export type { NewUser } from "./world.js";
export type {
  Activity,
  BotResponse,
  ConnectorOperation,
  ConversationRef,
  ConversationType,
  FaultSpec,
  FaultStatus,
  Operation,
  RecordedCall,
  StoredMessage,
  TeamRef,
  TeamsChannel,
  TeamsConversation,
  TeamsTeam,
  TeamsUser,
} from "./types.js";
