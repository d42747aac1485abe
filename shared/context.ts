import type { Config } from "./config";
import type { SlackTokens } from "./slack/client";
import type { StorageClients } from "./storage/clients";
import type { IdentityRepository } from "./storage/identities";
import type { TeamsConnector } from "./teams/connector";

/**
 * What every flow works with, built once per invocation by the composition root (`appContext` in
 * shared/runtime.ts). A platform's client is optional when the platform can be switched off: a new
 * platform adds its client here, optional, and nothing else changes shape.
 */
export interface AppContext {
  config: Config;
  storage: StorageClients;
  teams: TeamsConnector;
  /** Absent when Slack is not configured. */
  slack?: SlackTokens;
  /** One per invocation: its lookups are cached. */
  identities: IdentityRepository;
  log: (line: string) => void;
  now: () => Date;
}

/** The context of a flow that runs only when Slack is configured. */
export type SlackContext = AppContext & { slack: SlackTokens };

/** The context narrowed to one where Slack is configured, or undefined. */
export function withSlack(context: AppContext): SlackContext | undefined {
  return context.slack ? (context as SlackContext) : undefined;
}
