import { describe, expect, it } from "vitest";
import { functionTable } from "../../../functions/function-table";
import { loadedOnFirstCall } from "../../../functions/on-first-call";

describe("a handler loaded on its first call", () => {
  it("loads nothing until called, then loads once however many calls come at once", async () => {
    let loads = 0;
    const handler = loadedOnFirstCall(async () => {
      loads++;
      return async (name: string) => `hello ${name}`;
    });
    expect(loads).toBe(0);
    expect(await Promise.all([handler("ana"), handler("bo")])).toEqual(["hello ana", "hello bo"]);
    expect(await handler("cy")).toBe("hello cy");
    expect(loads).toBe(1);
  });

  it("tries the load again on the next call after a failed one", async () => {
    let loads = 0;
    const handler = loadedOnFirstCall(async () => {
      loads++;
      if (loads === 1) throw new Error("Cannot find module './chunks/x.js'");
      return async () => "loaded";
    });
    await expect(handler()).rejects.toThrow(/Cannot find module/);
    expect(await handler()).toBe("loaded");
    expect(loads).toBe(2);
  });

  it("passes the handler's own failure through, without loading again", async () => {
    let loads = 0;
    const handler = loadedOnFirstCall(async () => {
      loads++;
      return async () => {
        throw new Error("storage unavailable");
      };
    });
    await expect(handler()).rejects.toThrow("storage unavailable");
    await expect(handler()).rejects.toThrow("storage unavailable");
    expect(loads).toBe(1);
  });
});

describe("the function table", () => {
  it("keeps the issue API behind a function key; every other HTTP function is anonymous (it checks its own auth)", () => {
    const levels = Object.fromEntries(functionTable.flatMap((fn) => (fn.kind === "http" ? [[fn.name, fn.authLevel]] : [])));
    expect(Object.entries(levels).filter(([, level]) => level !== "anonymous")).toEqual([["issueApi", "function"]]);
    expect(Object.keys(levels)).toHaveLength(13);
  });
});
