// The Teams app package: manifest rendered from the template, valid against the
// manifest schema shipped in @microsoft/app-manifest (offline), and the icons Teams requires.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { crc32, inflateSync } from "node:zlib";
import { unzipSync } from "fflate";
import { afterAll, describe, expect, it } from "vitest";
import { ACCENT_COLOR, colorIcon, outlineIcon } from "../../infra/teams/icons";
import { parseCommand } from "../../shared/workflows/commands";
import {
  TEMPLATE_PATH,
  buildTeamsPackage,
  manifestSchemaPath,
  manifestVariables,
  renderManifest,
  validateManifest,
} from "../../infra/teams/manifest";

const REPO = path.resolve(__dirname, "../..");
const BOT_ID = "5a1c0e2b-3f4d-4e6a-8b9c-0d1e2f3a4b5c";
const INPUTS = { botAppId: BOT_ID, publicBaseUrl: "https://func-relay-q7x2k9ab.azurewebsites.net/", version: "1.4.0" };

type Manifest = Record<string, unknown> & {
  manifestVersion: string;
  bots: { botId: string; scopes: string[]; commandLists: { scopes: string[]; commands: { title: string }[] }[] }[];
};

const tmp = mkdtempSync(path.join(tmpdir(), "teams-package-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("manifest.template.json", () => {
  const template = JSON.parse(readFileSync(TEMPLATE_PATH, "utf8")) as Manifest & { $schema: string };

  it("uses a manifest version of at least 1.16 whose schema ships with @microsoft/app-manifest", () => {
    const [major, minor] = template.manifestVersion.split(".").map(Number);
    expect(major! * 100 + minor!).toBeGreaterThanOrEqual(116);
    expect(existsSync(manifestSchemaPath(template.manifestVersion))).toBe(true);
    expect(template.$schema).toBe(`https://developer.microsoft.com/en-us/json-schemas/teams/v${template.manifestVersion}/MicrosoftTeams.schema.json`);
  });
});

describe("buildTeamsPackage", () => {
  it("renders a manifest that is valid against its schema", async () => {
    const { manifest } = await buildTeamsPackage(INPUTS);
    expect(await validateManifest(manifest)).toEqual([]);
    expect(manifest).toMatchObject({
      id: BOT_ID,
      version: "1.4.0",
      accentColor: ACCENT_COLOR,
      validDomains: ["func-relay-q7x2k9ab.azurewebsites.net"],
      developer: { websiteUrl: "https://func-relay-q7x2k9ab.azurewebsites.net" },
    });
  });

  it("declares the bot in team, personal and group chat scopes with its commands", async () => {
    const { manifest } = (await buildTeamsPackage(INPUTS)) as unknown as { manifest: Manifest };
    const [bot] = manifest.bots;
    expect(bot!.botId).toBe(BOT_ID);
    expect([...bot!.scopes].sort()).toEqual(["groupChat", "personal", "team"]);
    const titles = bot!.commandLists.flatMap((list) => list.commands.map((c) => c.title));
    expect(titles).toEqual(["help", "link", "unlink", "subscribe", "unsubscribe", "subscriptions", "status", "notify"]);
    // Each one Teams offers is a command the bot answers, not "I don't know".
    for (const title of titles) expect(parseCommand(title).name).not.toBe("unknown");
    expect([...bot!.commandLists[0]!.scopes].sort()).toEqual(["groupChat", "personal", "team"]);
  });

  it("zips manifest.json and both icons at the root, the same bytes every time", async () => {
    const first = await buildTeamsPackage(INPUTS);
    const second = await buildTeamsPackage(INPUTS);
    expect(Buffer.from(first.zip).equals(Buffer.from(second.zip))).toBe(true);
    const files = unzipSync(first.zip);
    expect(Object.keys(files).sort()).toEqual(["color.png", "manifest.json", "outline.png"]);
    expect(JSON.parse(Buffer.from(files["manifest.json"]!).toString())).toEqual(first.manifest);
  });

  it("lets the Teams app id differ from the bot id", async () => {
    const teamsAppId = "0b8f5e4e-1d2c-4a3b-9c8d-7e6f5a4b3c2d";
    const { manifest } = await buildTeamsPackage({ ...INPUTS, teamsAppId });
    expect(manifest.id).toBe(teamsAppId);
  });
});

describe("icons", () => {
  it("colour: 192x192, opaque", () => {
    const png = decodePng(colorIcon());
    expect([png.width, png.height]).toEqual([192, 192]);
    expect(png.pixels().every(([, , , a]) => a === 255)).toBe(true);
  });

  it("outline: 32x32, white on transparent", () => {
    const png = decodePng(outlineIcon());
    expect([png.width, png.height]).toEqual([32, 32]);
    const pixels = png.pixels();
    expect(pixels.every(([r, g, b]) => r === 255 && g === 255 && b === 255)).toBe(true);
    expect(pixels.some(([, , , a]) => a === 0)).toBe(true);
    expect(pixels.some(([, , , a]) => a === 255)).toBe(true);
    expect(pixels[0]![3]).toBe(0); // the corner is background
  });
});

describe("checks", () => {
  it("the schema check reports what is wrong", async () => {
    const { manifest } = await buildTeamsPackage(INPUTS);
    const broken = structuredClone(manifest) as Manifest;
    broken.bots[0]!.botId = "not-a-guid";
    broken.bots[0]!.scopes.push("meeting");
    delete broken.accentColor;
    const errors = await validateManifest(broken);
    expect(errors.some((e) => e.startsWith("/bots/0/botId"))).toBe(true);
    expect(errors.some((e) => e.startsWith("/bots/0/scopes/3"))).toBe(true);
    expect(errors.some((e) => e.includes("accentColor"))).toBe(true);
  });

  it("an unknown manifest version is reported, not downloaded", async () => {
    expect(await validateManifest({ manifestVersion: "0.9" })).toEqual(["no JSON schema for manifestVersion 0.9 in @microsoft/app-manifest"]);
  });

  it("inputs are checked before rendering", () => {
    expect(() => manifestVariables({ ...INPUTS, botAppId: "relay-bot" })).toThrow("the bot id must be the identity's client id (a GUID)");
    expect(() => manifestVariables({ ...INPUTS, publicBaseUrl: "http://localhost:7071" })).toThrow("must use https");
    expect(() => manifestVariables({ ...INPUTS, publicBaseUrl: "func-relay" })).toThrow("is not a URL");
    expect(() => manifestVariables({ ...INPUTS, version: "1.4" })).toThrow("must look like 1.2.3");
    expect(manifestVariables({ ...INPUTS, publicBaseUrl: "https://relay.contoso.com:8443/triage/" })).toMatchObject({
      PUBLIC_BASE_URL: "https://relay.contoso.com:8443/triage",
      APP_HOST: "relay.contoso.com:8443",
    });
  });

  it("a placeholder without a value is an error, not left in the manifest", () => {
    expect(renderManifest({ a: ["${{BOT_APP_ID}}"] }, { BOT_APP_ID: BOT_ID })).toEqual({ a: [BOT_ID] });
    expect(() => renderManifest({ name: "${{APP_NAME}}" }, {})).toThrow("manifest template uses ${{APP_NAME}}, which has no value");
  });
});

describe("npm run teams:package", () => {
  const cli = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(
      process.execPath,
      [path.join(REPO, "node_modules", "tsx", "dist", "cli.mjs"), path.join(REPO, "infra", "teams", "package.ts"), ...args],
      {
        encoding: "utf8",
        env: { PATH: process.env.PATH ?? "", HOME: tmp, ...env },
      },
    );

  it("reads the bot id and URL from deployment outputs and writes the zip", () => {
    const outputs = path.join(tmp, "outputs.json");
    writeFileSync(
      outputs,
      JSON.stringify({ botAppId: { type: "String", value: BOT_ID }, appUrl: { type: "String", value: "https://relay.contoso.com" } }),
    );
    const out = path.join(tmp, "teams-app.zip");
    const result = cli(["--outputs", outputs, "--out", out, "--app-version", "2.0.1"]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("version 2.0.1");
    const manifest = JSON.parse(Buffer.from(unzipSync(readFileSync(out))["manifest.json"]!).toString()) as Manifest;
    expect(manifest).toMatchObject({ version: "2.0.1", validDomains: ["relay.contoso.com"], bots: [{ botId: BOT_ID }] });
  });

  it("says what is missing", () => {
    const result = cli(["--out", path.join(tmp, "x.zip")]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("teams:package: the bot id and the app URL are needed");
  });
});

/** A PNG reader independent of the encoder: chunk CRCs, zlib, and all five row filters. */
function decodePng(data: Buffer) {
  expect(data.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  let offset = 8;
  let header: Buffer | undefined;
  const idat: Buffer[] = [];
  while (offset < data.length) {
    const length = data.readUInt32BE(offset);
    const type = data.toString("ascii", offset + 4, offset + 8);
    const body = data.subarray(offset + 8, offset + 8 + length);
    expect(data.readUInt32BE(offset + 8 + length), `${type} CRC`).toBe(crc32(data.subarray(offset + 4, offset + 8 + length)));
    if (type === "IHDR") header = body;
    if (type === "IDAT") idat.push(body);
    offset += 12 + length;
  }
  const width = header!.readUInt32BE(0);
  const height = header!.readUInt32BE(4);
  expect([header![8], header![9]]).toEqual([8, 6]); // 8-bit RGBA
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 4;
  const out = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    for (let x = 0; x < stride; x++) {
      const value = raw[y * (stride + 1) + 1 + x]!;
      const a = x >= 4 ? out[y * stride + x - 4]! : 0;
      const b = y > 0 ? out[(y - 1) * stride + x]! : 0;
      const c = x >= 4 && y > 0 ? out[(y - 1) * stride + x - 4]! : 0;
      const paeth = () => {
        const p = a + b - c;
        const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      };
      const predictor = [0, a, b, (a + b) >> 1, paeth()][filter]!;
      out[y * stride + x] = (value + predictor) & 0xff;
    }
  }
  return {
    width,
    height,
    pixels: () => Array.from({ length: width * height }, (_, i) => [...out.subarray(i * 4, i * 4 + 4)] as [number, number, number, number]),
  };
}
