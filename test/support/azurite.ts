// Azurite for tests: in memory, on random ports, so every test file (forked worker) gets its own.
import { startAzurite, type Azurite, type AzuriteOptions } from "../../dev/azurite";

export { startAzurite, type Azurite, type AzuriteOptions };

export function startTestAzurite(): Promise<Azurite> {
  return startAzurite({ inMemory: true, ports: "random" });
}
