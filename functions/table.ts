import type { HttpHandler, StorageQueueHandler } from "@azure/functions";

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
