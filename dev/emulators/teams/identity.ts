// Entra ID's part: the App Service managed identity endpoint (what @azure/identity's
// ManagedIdentityCredential calls when IDENTITY_ENDPOINT and IDENTITY_HEADER are set) and
// the check Bot Connector applies to the bearer tokens it hands out.
import { randomUUID, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { Reply } from "./http.js";
import { nowSeconds, signRs256, verifyRs256 } from "./jwt.js";
import type { SigningKey } from "./keys.js";

export const BOT_CONNECTOR_RESOURCE = "https://api.botframework.com";
const APP_SERVICE_MSI_API_VERSION = "2019-08-01";

export class AccessTokenIssuer {
  /** The managed identity's service principal object id (`oid`/`sub`). */
  readonly principalId = randomUUID();

  constructor(
    private readonly key: SigningKey,
    private readonly appId: string,
    private readonly tenantId: string,
    private readonly lifetimeSec: number,
  ) {}

  /** An Entra v1 app-only token, as a user-assigned managed identity receives for `resource`. */
  issue(resource: string): { accessToken: string; expiresOn: number } {
    const now = nowSeconds();
    const expiresOn = now + this.lifetimeSec;
    const issuer = `https://sts.windows.net/${this.tenantId}/`;
    const accessToken = signRs256(
      { typ: "JWT", alg: "RS256", x5t: this.key.kid, kid: this.key.kid },
      {
        aud: resource,
        iss: issuer,
        iat: now,
        nbf: now,
        exp: expiresOn,
        appid: this.appId,
        appidacr: "2",
        idp: issuer,
        idtyp: "app",
        oid: this.principalId,
        sub: this.principalId,
        tid: this.tenantId,
        ver: "1.0",
      },
      this.key.privateKey,
    );
    return { accessToken, expiresOn };
  }

  /** Why Bot Connector would refuse this bearer token, or undefined when it is acceptable. */
  connectorRejection(token: string | undefined): string | undefined {
    if (!token) return "missing bearer token";
    const claims = verifyRs256(token, this.key.publicKey);
    if (!claims) return "token not signed by the emulator's token endpoint";
    if (claims.aud !== BOT_CONNECTOR_RESOURCE) return `aud must be ${BOT_CONNECTOR_RESOURCE}`;
    if (claims.appid !== this.appId && claims.azp !== this.appId) return "token was issued to another app";
    if (typeof claims.exp !== "number" || claims.exp <= nowSeconds()) return "token expired";
    return undefined;
  }
}

export interface ManagedIdentityContext {
  issuer: AccessTokenIssuer;
  appId: string;
  identityHeader: string;
}

/** `GET <IDENTITY_ENDPOINT>?api-version=2019-08-01&resource=…&client_id=…` with `X-IDENTITY-HEADER`. */
export function managedIdentityToken(url: URL, headers: IncomingHttpHeaders, ctx: ManagedIdentityContext): Reply {
  const secret = headers["x-identity-header"];
  if (typeof secret !== "string" || secret === "") return msiError(400, "invalid_request", "X-IDENTITY-HEADER is required");
  if (!sameSecret(secret, ctx.identityHeader)) return msiError(401, "unauthorized_client", "X-IDENTITY-HEADER is not valid");

  const query = url.searchParams;
  if (query.get("api-version") !== APP_SERVICE_MSI_API_VERSION) {
    return msiError(400, "invalid_request", `api-version must be ${APP_SERVICE_MSI_API_VERSION}`);
  }
  const resource = query.get("resource");
  if (!resource) return msiError(400, "invalid_request", "resource is required");
  const clientId = query.get("client_id");
  // Only the bot's user-assigned identity exists here; a request without client_id would get a
  // system-assigned identity's token in Azure, which Bot Connector would refuse anyway.
  if (clientId !== ctx.appId) {
    return msiError(400, "invalid_request", `No managed identity with client_id ${clientId ?? "(none)"} is assigned to this app`);
  }

  const { accessToken, expiresOn } = ctx.issuer.issue(resource);
  // App Service sends expires_on as a string of epoch seconds.
  return {
    status: 200,
    body: { access_token: accessToken, expires_on: String(expiresOn), resource, token_type: "Bearer", client_id: clientId },
  };
}

function msiError(status: number, error: string, description: string): Reply {
  return { status, body: { error, error_description: description } };
}

function sameSecret(a: string, b: string): boolean {
  const [x, y] = [Buffer.from(a), Buffer.from(b)];
  return x.length === y.length && timingSafeEqual(x, y);
}
