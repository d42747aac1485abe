import { app } from "@azure/functions";
import { config } from "../shared/config";
import { alertsQueue } from "./alerts-queue";
import { health } from "./health";
import type { FunctionDefinition } from "./table";

export type { FunctionDefinition } from "./table";

/** Every function of the app, in one table: registered with Azure Functions here, served by dev/host locally. */
export const functionTable: FunctionDefinition[] = [
  { name: "health", kind: "http", route: "health", methods: ["GET"], authLevel: "anonymous", handler: health },
  { name: "alertsQueue", kind: "queue", queueName: "alerts", handler: alertsQueue },
];

// Refuse to start with an unsafe or incomplete configuration: fail at load, naming every bad setting.
config();

for (const fn of functionTable) {
  if (fn.kind === "http") {
    app.http(fn.name, { route: fn.route, methods: fn.methods, authLevel: fn.authLevel, handler: fn.handler });
  } else {
    app.storageQueue(fn.name, { queueName: fn.queueName, connection: "AzureWebJobsStorage", handler: fn.handler });
  }
}
