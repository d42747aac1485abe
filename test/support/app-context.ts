import type { AppContext } from "../../shared/context";
import { IdentityRepository } from "../../shared/storage/identities";

/** An AppContext as the composition root builds one: what the test gives, a fresh identity cache, the clock and a quiet log. */
export function testContext(parts: Pick<AppContext, "config" | "storage" | "teams"> & Partial<AppContext>): AppContext {
  return { identities: new IdentityRepository(parts.storage), log: () => {}, now: () => new Date(), ...parts };
}
