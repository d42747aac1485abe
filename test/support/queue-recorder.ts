// A recorder in front of Azurite's queue service: what the app put on which queue, with which delay.
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedMessage {
  queue: string;
  /** The message text as stored (base64). */
  text: string;
  delaySeconds: number;
  /** When it was sent, by the app's clock. */
  at: number;
  messageId: string;
  popReceipt: string;
}

export interface QueueRecorder {
  endpoint: string;
  sentTo(queue: string): RecordedMessage[];
  lastTo(queue: string): RecordedMessage;
  stop(): Promise<void>;
}

/**
 * Forwards every request to Azurite's queue service and records each message put on a queue, with the delay it
 * was given and the pop receipt Azurite answered (what lets the test make a delayed message visible early).
 * `onRecorded` runs before the app hears the answer (e.g. to make a delayed message visible at once).
 */
export async function recordQueueWrites(
  queueEndpoint: string,
  options: { onRecorded?: (message: RecordedMessage) => Promise<void> } = {},
): Promise<QueueRecorder> {
  const upstream = new URL(queueEndpoint);
  const sent: RecordedMessage[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? "/", "http://recorder");
      const put = req.method === "POST" && /\/messages$/.test(url.pathname);
      const at = Date.now();
      const outgoing = request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
        (answer) => {
          const answerChunks: Buffer[] = [];
          answer.on("data", (chunk: Buffer) => answerChunks.push(chunk));
          answer.on("end", async () => {
            const answerBody = Buffer.concat(answerChunks);
            if (put && answer.statusCode === 201) {
              const xml = answerBody.toString("utf8");
              const message = {
                queue: url.pathname.split("/").at(-2)!,
                text: xmlValue(body.toString("utf8"), "MessageText"),
                delaySeconds: Number(url.searchParams.get("visibilitytimeout") ?? 0),
                at,
                messageId: xmlValue(xml, "MessageId"),
                popReceipt: xmlValue(xml, "PopReceipt"),
              };
              sent.push(message);
              await options.onRecorded?.(message);
            }
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(answerBody);
          });
        },
      );
      outgoing.on("error", () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      outgoing.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const sentTo = (queue: string) => sent.filter((message) => message.queue === queue);
  return {
    endpoint: `http://127.0.0.1:${port}${upstream.pathname}`,
    sentTo,
    lastTo: (queue) => {
      const last = sentTo(queue).at(-1);
      if (!last) throw new Error(`nothing was put on ${queue}`);
      return last;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function xmlValue(xml: string, element: string): string {
  const value = new RegExp(`<${element}>([^<]*)</${element}>`).exec(xml)?.[1];
  if (value === undefined) throw new Error(`no <${element}> in ${xml}`);
  return value
    .replace(/&amp;/g, "&")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'");
}
