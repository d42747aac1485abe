// One test file's storage: its own in-memory Azurite and the app's storage clients on it, optionally behind
// the counting proxy (for tests that judge a workflow by the storage requests it makes).
import { afterAll, beforeAll } from "vitest";
import { StorageClients } from "../../shared/storage/clients";
import { startTestAzurite, type Azurite } from "./azurite";
import { startStorageProxy, type StorageProxy } from "./storage-proxy";

export interface TestStorage {
  azurite: Azurite;
  /** The connection string the app is given: the proxy's when requests are counted, else Azurite's. */
  connectionString: string;
  /** The app's storage, on `connectionString`. */
  storage: StorageClients;
  /** The test's own look at storage, straight to Azurite (never counted). */
  direct: StorageClients;
  stop(): Promise<void>;
}

export interface CountedTestStorage extends TestStorage {
  proxy: StorageProxy;
}

export interface TestStorageOptions {
  /** Put the counting proxy between the app's storage clients and Azurite. */
  countRequests?: boolean;
}

export function startTestStorage(options: TestStorageOptions & { countRequests: true }): Promise<CountedTestStorage>;
export function startTestStorage(options?: TestStorageOptions): Promise<TestStorage>;
export async function startTestStorage(options: TestStorageOptions = {}): Promise<TestStorage> {
  const azurite = await startTestAzurite();
  const proxy = options.countRequests ? await startStorageProxy(azurite) : undefined;
  const connectionString = proxy?.connectionString ?? azurite.connectionString;
  const started: TestStorage & { proxy?: StorageProxy } = {
    azurite,
    proxy,
    connectionString,
    storage: new StorageClients({ kind: "connectionString", connectionString }),
    direct: new StorageClients({ kind: "connectionString", connectionString: azurite.connectionString }),
    async stop() {
      await proxy?.stop();
      await azurite.stop();
    },
  };
  return started;
}

/**
 * For a file whose tests share one storage: starts it before them (then hands it to `onStarted`, which keeps the
 * parts the file uses) and stops it after them.
 */
export function useTestStorage(onStarted: (started: CountedTestStorage) => void, options: TestStorageOptions & { countRequests: true }): void;
export function useTestStorage(onStarted: (started: TestStorage) => void, options?: TestStorageOptions): void;
export function useTestStorage(onStarted: (started: CountedTestStorage) => void, options: TestStorageOptions = {}): void {
  let started: TestStorage | undefined;
  beforeAll(async () => {
    started = await startTestStorage(options);
    onStarted(started as CountedTestStorage);
  }, 60_000);
  afterAll(async () => {
    await started?.stop();
  });
}
