import { app, type HttpHandler, type StorageQueueHandler } from "@azure/functions";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** One HTTP-triggered function: the route is relative to the host's route prefix (`api`). */
export interface HttpFunction {
  name: string;
  kind: "http";
  route: string;
  methods: HttpMethod[];
  authLevel: "anonymous" | "function" | "admin";
  handler: HttpHandler;
}

/** One queue-triggered function on the `AzureWebJobsStorage` connection. */
export interface QueueFunction {
  name: string;
  kind: "queue";
  queueName: string;
  handler: StorageQueueHandler;
}

export type FunctionDefinition = HttpFunction | QueueFunction;

/** Registers every function of the table with Azure Functions. */
export function registerFunctions(table: FunctionDefinition[]): void {
  for (const fn of table) {
    if (fn.kind === "http") {
      app.http(fn.name, { route: fn.route, methods: fn.methods, authLevel: fn.authLevel, handler: fn.handler });
    } else {
      app.storageQueue(fn.name, { queueName: fn.queueName, connection: "AzureWebJobsStorage", handler: fn.handler });
    }
  }
}
