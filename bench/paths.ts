import { resolve } from "node:path";

/** The repository root. */
export const ROOT = resolve(__dirname, "..");
