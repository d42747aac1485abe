// The Discord emulator's injected failures, seen from a plain HTTP client: a 5xx answer, a connection dropped
// with no answer (before or after the request took effect), and Discord unreachable (connections refused).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDiscordEmulator, type DiscordEmulator } from "../../dev/emulators/discord";

let discord: DiscordEmulator;
let channelId: string;

beforeAll(async () => {
  discord = await startDiscordEmulator();
  channelId = discord.addGuild("Checkout", ["alerts"]).channels[0]!.id;
});
afterAll(async () => {
  await discord?.stop();
});

const post = (content: string, channel = channelId) =>
  fetch(`${discord.apiUrl}/channels/${channel}/messages`, {
    method: "POST",
    headers: { authorization: `Bot ${discord.botToken}`, "content-type": "application/json" },
    body: JSON.stringify({ content }),
  });
const posted = (content: string) => discord.messages(channelId).filter((m) => m.content === content).length;
/** The code of what made a fetch fail (undici puts it on the cause). */
async function failureOf(request: Promise<Response>): Promise<string | undefined> {
  try {
    await request;
    return undefined;
  } catch (error) {
    return ((error as Error).cause as { code?: string } | undefined)?.code;
  }
}

describe("the Discord emulator's injected failures", () => {
  it("answers the next matching requests with the 5xx asked for, without acting on them; the one after goes through", async () => {
    discord.failNext({ pathIncludes: `/channels/${channelId}/messages`, method: "POST", failure: { status: 502 }, times: 2 });
    const first = await post("five-oh-two");
    expect(first.status).toBe(502);
    expect(await first.json()).toMatchObject({ message: "502: Bad Gateway" });
    expect((await post("five-oh-two")).status).toBe(502);
    expect(posted("five-oh-two")).toBe(0);
    expect((await post("five-oh-two")).status).toBe(200);
    expect(posted("five-oh-two")).toBe(1);
    expect(discord.calls.filter((c) => c.body && (c.body as { content?: string }).content === "five-oh-two").map((c) => c.status)).toEqual([
      502, 502, 200,
    ]);
  });

  it("leaves requests to other paths or with other methods alone", async () => {
    const other = discord.addChannel([...discord.guilds.keys()][0]!, "other").id;
    discord.failNext({ pathIncludes: `/channels/${channelId}/messages`, method: "POST", failure: { status: 500 } });
    expect((await post("elsewhere", other)).status).toBe(200);
    expect((await post("here")).status).toBe(500);
  });

  it("after applying: the message is posted, but the answer is the 5xx", async () => {
    discord.failNext({ pathIncludes: `/channels/${channelId}/messages`, failure: { status: 500 }, afterApplying: true });
    expect((await post("landed-500")).status).toBe(500);
    expect(posted("landed-500")).toBe(1);
  });

  it("drop: the connection is reset once the request has arrived (ECONNRESET), recorded with status 0; nothing posted", async () => {
    discord.failNext({ pathIncludes: `/channels/${channelId}/messages`, failure: "drop" });
    expect(await failureOf(post("dropped"))).toBe("ECONNRESET");
    expect(posted("dropped")).toBe(0);
    expect(discord.calls.at(-1)).toMatchObject({ method: "POST", status: 0 });
    expect((await post("dropped")).status).toBe(200);
  });

  it("drop after applying: posted, but the client gets no answer", async () => {
    discord.failNext({ pathIncludes: `/channels/${channelId}/messages`, failure: "drop", afterApplying: true });
    expect(await failureOf(post("landed-dropped"))).toBe("ECONNRESET");
    expect(posted("landed-dropped")).toBe(1);
  });

  it("refusing connections: ECONNREFUSED and nothing recorded, until connections are accepted again on the same address", async () => {
    const calls = discord.calls.length;
    await discord.refuseConnections();
    try {
      expect(await failureOf(post("refused"))).toBe("ECONNREFUSED");
      expect(discord.calls.length).toBe(calls);
    } finally {
      await discord.acceptConnections();
    }
    expect((await post("refused")).status).toBe(200);
    expect(posted("refused")).toBe(1);
  });
});
