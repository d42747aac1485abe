import type { Person } from "../domain/issue";
import { safeKey, isNotFound } from "./table";
import { TABLES, type StorageClients } from "./clients";

/**
 * A person's own settings, by email, in the `identities` table (partition `person:<email>`, row `settings`),
 * beside their chat links. Absent means the defaults.
 */
interface PersonSettingsEntity {
  partitionKey: string;
  rowKey: string;
  /** Assignment notices in their personal chats; stored only as false (off). */
  notices?: boolean;
}

const ROW = "settings";
const partitionOf = (email: string) => `person:${safeKey(email.trim().toLowerCase())}`;

/** Turns a person's assignment notices off or on (`notify off` / `notify on` in their personal chat). */
export async function setNotices(storage: StorageClients, person: Pick<Person, "email">, on: boolean): Promise<void> {
  const table = await storage.table(TABLES.identities);
  await table.upsertEntity<PersonSettingsEntity>({ partitionKey: partitionOf(person.email), rowKey: ROW, notices: on }, "Merge");
}

/** Whether the person gets assignment notices: on unless they turned them off. */
export async function noticesOn(storage: StorageClients, email: string): Promise<boolean> {
  const table = await storage.table(TABLES.identities);
  try {
    const entity = await table.getEntity<PersonSettingsEntity>(partitionOf(email), ROW);
    return entity.notices !== false;
  } catch (error) {
    if (isNotFound(error)) return true;
    throw error;
  }
}
