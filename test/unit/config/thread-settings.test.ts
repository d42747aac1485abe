import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../shared/config";
import { validSettings } from "../../fixtures/settings";

describe("THREAD_BROADCAST_REGRESSIONS", () => {
  it("is on unless set to false; empty is the same as absent", () => {
    expect(loadConfig({ ...validSettings(), THREAD_BROADCAST_REGRESSIONS: undefined }).threadBroadcastRegressions).toBe(true);
    expect(loadConfig({ ...validSettings(), THREAD_BROADCAST_REGRESSIONS: "" }).threadBroadcastRegressions).toBe(true);
    expect(loadConfig({ ...validSettings(), THREAD_BROADCAST_REGRESSIONS: "false" }).threadBroadcastRegressions).toBe(false);
    expect(loadConfig({ ...validSettings(), THREAD_BROADCAST_REGRESSIONS: "true" }).threadBroadcastRegressions).toBe(true);
  });
});
