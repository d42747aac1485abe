import { describe, expect, it } from "vitest";
import { parseCommand } from "../../../shared/workflows/commands";

describe("parsing what people type, against the one command table", () => {
  it("each command by its word, case-insensitive; nothing typed is help", () => {
    expect(parseCommand("")).toMatchObject({ name: "help" });
    expect(parseCommand("  HELP ")).toMatchObject({ name: "help" });
    for (const name of ["status", "link", "unlink", "subscriptions"]) expect(parseCommand(name)).toMatchObject({ name });
    expect(parseCommand("Subscribe checkout WARNING")).toEqual({
      name: "subscribe",
      args: { project: "checkout", minLevel: "warning", thread: true },
    });
    expect(parseCommand("subscribe checkout")).toEqual({ name: "subscribe", args: { project: "checkout", minLevel: "error", thread: true } });
    expect(parseCommand("subscribe checkout warning --no-thread")).toEqual({
      name: "subscribe",
      args: { project: "checkout", minLevel: "warning", thread: false },
    });
    expect(parseCommand("subscribe checkout --no-thread")).toEqual({
      name: "subscribe",
      args: { project: "checkout", minLevel: "error", thread: false },
    });
    expect(parseCommand("notify off")).toEqual({ name: "notify", args: { on: false } });
    expect(parseCommand("notify on")).toEqual({ name: "notify", args: { on: true } });
    expect(parseCommand("unsubscribe checkout")).toEqual({ name: "unsubscribe", args: { project: "checkout" } });
  });

  it("a word that isn't a command is unknown, kept short; inherited object keys are not commands", () => {
    expect(parseCommand("frobnicate now")).toEqual({ name: "unknown", text: "frobnicate" });
    expect(parseCommand(`${"x".repeat(80)}`)).toEqual({ name: "unknown", text: "x".repeat(50) });
    expect(parseCommand("constructor")).toEqual({ name: "unknown", text: "constructor" });
    expect(parseCommand("toString")).toEqual({ name: "unknown", text: "toString" });
  });

  it("a command with the wrong words says what was expected", () => {
    expect(parseCommand("subscribe")).toEqual({
      name: "invalid",
      reason: "Usage: subscribe PROJECT [LEVEL] [--no-thread], LEVEL one of fatal, error, warning, info, debug",
    });
    expect(parseCommand("subscribe che/ckout")).toMatchObject({ name: "invalid" });
    expect(parseCommand("subscribe checkout loud")).toEqual({
      name: "invalid",
      reason: '"loud" is not a level. Use one of: debug, info, warning, error, fatal. A project name with spaces goes in quotes: "Resource Health".',
    });
    // Two words taken for a project and a level: the answer says how a name with spaces is typed.
    expect(parseCommand("subscribe Resource Health")).toEqual({
      name: "invalid",
      reason:
        '"Health" is not a level. Use one of: debug, info, warning, error, fatal. A project name with spaces goes in quotes: "Resource Health".',
    });
    expect(parseCommand("unsubscribe")).toEqual({ name: "invalid", reason: "Usage: unsubscribe PROJECT" });
    expect(parseCommand("subscribe checkout error extra")).toMatchObject({ name: "invalid" });
    expect(parseCommand("notify")).toEqual({ name: "invalid", reason: "Usage: notify on|off" });
  });
});
