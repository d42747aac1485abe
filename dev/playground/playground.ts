// Microsoft 365 Agents Playground (@microsoft/m365agentsplayground, a devDependency: its web client
// and server ship in the package, nothing is downloaded at run time) as a child process, on loopback.
// It is the Bot Connector for the run: the app's replies and cards go to its serviceUrl.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { ids } from "../../shared/domain/ids";

const ROOT = resolve(__dirname, "..", "..");
const CLI = join(ROOT, "node_modules", "@microsoft", "m365agentsplayground", "cli.js");
const LOOPBACK_ONLY = join(__dirname, "loopback-only.cjs");
const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;

export const PLAYGROUND_CONFIG = join(ROOT, ".m365agentsplayground.yml");

/** The conversations and people of a Playground config file, as the app will see them. */
export interface PlaygroundWorld {
  tenantId: string;
  /** The bot's Teams id, `28:<app id>`. */
  botId: string;
  appId: string;
  botName: string;
  user: { id: string; name: string; email: string };
  personalChatId: string;
  groupChat: { id: string; name: string };
  team: { id: string; name: string };
  /** The General channel (its id is the team's) first. */
  channels: { id: string; name: string }[];
}

/**
 * The parts of the Playground's config the app depends on. The Playground checks the rest (its schema);
 * here, ids must be ones the app accepts, or alerts could never target those conversations.
 */
const configFile = z.object({
  tenantId: ids.tenantId,
  bot: z.object({ id: z.string().regex(/^28:/, "the bot's Teams id, 28:<app id>"), name: z.string() }),
  currentUser: z.object({ id: ids.teamsUserId, name: z.string(), email: z.string() }),
  personalChat: z.object({ id: ids.teamsConversationId }),
  groupChat: z.object({ id: ids.teamsConversationId, name: z.string() }),
  team: z.object({ id: ids.teamsConversationId, name: z.string(), channels: z.array(z.object({ id: ids.teamsConversationId, name: z.string() })) }),
});

export function readPlaygroundWorld(configText: string, source = "the Playground config"): PlaygroundWorld {
  const parsed = configFile.safeParse(parse(configText));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(file)"}: ${issue.message}`);
    throw new Error(`${source} doesn't fit the app (see README, "Try it in Microsoft 365 Agents Playground"):\n  ${problems.join("\n  ")}`);
  }
  const config = parsed.data;
  return {
    tenantId: config.tenantId,
    botId: config.bot.id,
    appId: config.bot.id.replace(/^28:/, ""),
    botName: config.bot.name,
    user: { id: config.currentUser.id, name: config.currentUser.name, email: config.currentUser.email },
    personalChatId: config.personalChat.id,
    groupChat: config.groupChat,
    team: { id: config.team.id, name: config.team.name },
    channels: [{ id: config.team.id, name: "General" }, ...config.team.channels],
  };
}

export interface PlaygroundOptions {
  /** Where the Playground posts activities (the signing bridge). */
  appEndpoint: string;
  /** Its web client and Bot Connector. The Playground's default is 56150. */
  port: number;
  configPath: string;
  /** The Playground's own log file (it logs every request and response). */
  logFile: string;
}

export interface Playground {
  /** The web client: open this in a browser. */
  readonly url: string;
  /** Its Bot Connector, as activities carry it. */
  readonly serviceUrl: string;
  stop(): Promise<void>;
}

/** Its serviceUrl for a port; 127.0.0.1 rather than the Playground's default `localhost`, which may resolve to ::1. */
export const playgroundServiceUrl = (port: number): string => `http://127.0.0.1:${port}/_connector`;

export async function startPlayground(options: PlaygroundOptions): Promise<Playground> {
  // The Playground moves to a random port when its port is taken, which would break the serviceUrl
  // the app was told about: refuse instead.
  if (!(await isFree(options.port))) {
    throw new Error(`Port ${options.port} for Microsoft 365 Agents Playground is taken: stop what uses it, or set PLAYGROUND_PORT.`);
  }
  mkdirSync(dirname(options.logFile), { recursive: true });
  const serviceUrl = playgroundServiceUrl(options.port);
  const args = [
    "--require",
    LOOPBACK_ONLY,
    CLI,
    "--app-endpoint",
    options.appEndpoint,
    "--channel-id",
    "msteams",
    "--port",
    String(options.port),
    "--service-url",
    serviceUrl,
    "--disable-telemetry",
  ];
  const child = spawn(process.execPath, args, {
    cwd: dirname(options.configPath),
    env: {
      ...process.env,
      M365_AGENTS_PLAYGROUND_CONFIG_PATH: options.configPath,
      M365_AGENTS_PLAYGROUND_LOGFILE: options.logFile,
      // Don't open a browser: the command line prints the URL.
      TEAMSAPPTESTER_BROWSER: "none",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const stop = async () => {
    process.removeListener("exit", killOnExit);
    await terminate(child);
  };
  try {
    await waitUntilListening(child, options);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `http://127.0.0.1:${options.port}`, serviceUrl, stop };
}

/**
 * It prints "Listening on <port>" before reading its config, and a bad config makes it exit with
 * the reason in its log file only: ready is when its loaded config answers.
 */
async function waitUntilListening(child: ChildProcess, options: PlaygroundOptions): Promise<void> {
  const output: string[] = [];
  child.stdout?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  let exited = false;
  child.once("exit", () => (exited = true));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited) {
      throw new Error(`Microsoft 365 Agents Playground exited at start; its log (${options.logFile}) says why.\n${output.join("").trim()}`);
    }
    const answer = await fetch(`http://127.0.0.1:${options.port}/_internal/v1/config`).catch(() => undefined);
    if (answer?.ok) return;
    await new Promise((done) => setTimeout(done, 200));
  }
  throw new Error(`Microsoft 365 Agents Playground did not start within ${START_TIMEOUT_MS / 1000} s.\n${output.join("").trim()}`);
}

function isFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer()
      .once("error", () => done(false))
      .listen(port, "127.0.0.1", () => server.close(() => done(true)));
  });
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}
