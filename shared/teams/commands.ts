import { LEVELS, type Level } from "../domain/issue";

export type TeamsCommand =
  | { name: "help" }
  | { name: "status" }
  | { name: "link" }
  | { name: "unlink" }
  | { name: "subscribe"; project: string; minLevel: Level }
  | { name: "unsubscribe"; project: string }
  | { name: "subscriptions" }
  | { name: "unknown"; text: string }
  | { name: "invalid"; reason: string };

const PROJECT = /^[A-Za-z0-9._-]{1,100}$/;

/** Parses what someone typed to the bot (mention already removed). Shared by Teams and Slack. */
export function parseCommand(text: string): TeamsCommand {
  const [word = "", ...args] = text.trim().split(/\s+/);
  switch (word.toLowerCase()) {
    case "":
    case "help":
      return { name: "help" };
    case "status":
      return { name: "status" };
    case "link":
      return { name: "link" };
    case "unlink":
      return { name: "unlink" };
    case "subscriptions":
      return { name: "subscriptions" };
    case "subscribe": {
      const [project, level = "error"] = args;
      if (!project || !PROJECT.test(project)) return { name: "invalid", reason: "Usage: subscribe PROJECT [LEVEL], LEVEL one of fatal, error, warning, info, debug" };
      if (!(LEVELS as readonly string[]).includes(level.toLowerCase())) {
        return { name: "invalid", reason: `"${level}" is not a level. Use one of: ${LEVELS.join(", ")}.` };
      }
      return { name: "subscribe", project, minLevel: level.toLowerCase() as Level };
    }
    case "unsubscribe": {
      const [project] = args;
      if (!project || !PROJECT.test(project)) return { name: "invalid", reason: "Usage: unsubscribe PROJECT" };
      return { name: "unsubscribe", project };
    }
    default:
      return { name: "unknown", text: word.slice(0, 50) };
  }
}
