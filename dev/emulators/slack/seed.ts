import type { SlackEmulator, WorkspaceHandle } from "./index";

/** Fixed ids so a dev setup (and anything bookmarked against it) survives restarts. */
export const DEV_IDS = {
  team: "T0DEV00001",
  alerts: "C0ALERTS01",
  oncall: "C0ONCALL01",
  privateOps: "C0PRVOPS01",
  alice: "U0ALICE001",
  bob: "U0BOB00001",
} as const;

export interface DevWorkspace {
  workspace: WorkspaceHandle;
  channels: { alerts: string; oncall: string; privateOps: string };
  users: { alice: string; bob: string };
}

/**
 * A small workspace for `npm start`: #alerts and #oncall (bot is a member), a private channel the bot was not
 * invited to, Alice (with an email, and the installing user) and Bob (without). Pass `botToken` to keep the
 * app's configuration stable across restarts.
 */
export function seedDevWorkspace(emu: SlackEmulator, opts: { botToken?: string; rotation?: boolean } = {}): DevWorkspace {
  const workspace = emu.addWorkspace({ id: DEV_IDS.team, name: "Triage Dev", botToken: opts.botToken, rotation: opts.rotation });
  const alice = emu.addUser(workspace.teamId, { id: DEV_IDS.alice, name: "alice", realName: "Alice Oncall", email: "alice@triage.dev" }).id;
  const bob = emu.addUser(workspace.teamId, { id: DEV_IDS.bob, name: "bob", realName: "Bob Builder" }).id;
  const alerts = emu.addChannel(workspace.teamId, { id: DEV_IDS.alerts, name: "alerts" }).id;
  const oncall = emu.addChannel(workspace.teamId, { id: DEV_IDS.oncall, name: "oncall" }).id;
  const privateOps = emu.addChannel(workspace.teamId, { id: DEV_IDS.privateOps, name: "ops-private", isPrivate: true, botIsMember: false }).id;
  emu.setAuthorizeAs({ teamId: workspace.teamId, userId: alice });
  return { workspace, channels: { alerts, oncall, privateOps }, users: { alice, bob } };
}
