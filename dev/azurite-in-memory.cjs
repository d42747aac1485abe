// Preloaded into an in-memory Azurite (tests, benchmarks): its queue service's garbage collection runs every
// minute and deletes each unreferenced message extent with a full scan of the extent list, so after a few
// thousand queue messages it stops the whole emulator for seconds (9 s measured in the fan-out benchmark, every
// minute) — a stall Azure Storage does not have. An in-memory Azurite lives for one run: its garbage is
// left to the end (a run's message bodies are a few megabytes).
const constants = require("azurite/dist/src/queue/utils/constants");
if (typeof constants.DEFAULT_GC_INTERVAL_MS !== "number") {
  throw new Error("azurite-in-memory.cjs: Azurite's queue DEFAULT_GC_INTERVAL_MS is gone; revisit this preload");
}
constants.DEFAULT_GC_INTERVAL_MS = 24 * 3600 * 1000;
