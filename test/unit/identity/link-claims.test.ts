import { describe, expect, it } from "vitest";
import { REFUSALS, trustedIdentity } from "../../../shared/identity/sign-in";

const OID = "5f0c1a9e-0000-4000-8000-0000000000a1";
const TID = "72f988bf-0000-4000-8000-000000000001";

describe("what an ID token's claims let us trust", () => {
  describe("any provider: an email it says is verified, nothing else", () => {
    it.each<[string, Record<string, unknown>, (typeof REFUSALS)[keyof typeof REFUSALS]]>([
      ["no email", { sub: "s" }, REFUSALS.noEmail],
      ["only preferred_username", { sub: "s", preferred_username: "ana@contoso.com" }, REFUSALS.noEmail],
      ["an email that isn't an address", { sub: "s", email: "ana", email_verified: true }, REFUSALS.noEmail],
      ["email_verified: false", { sub: "s", email: "ana@contoso.com", email_verified: false }, REFUSALS.emailNotVerified],
      ["no email_verified", { sub: "s", email: "ana@contoso.com" }, REFUSALS.emailVerifiedMissing],
      [
        'email_verified: "true" (a string, not the boolean)',
        { sub: "s", email: "ana@contoso.com", email_verified: "true" },
        REFUSALS.emailVerifiedMissing,
      ],
      [
        "Entra's claims from a provider that isn't Entra",
        { sub: "s", email: "ana@contoso.com", xms_edov: true, oid: OID, tid: TID },
        REFUSALS.emailVerifiedMissing,
      ],
    ])("%s: refused", (_case, claims, refusal) => {
      expect(trustedIdentity(claims, false)).toEqual({ ok: false, refusal });
    });

    it("a verified email, lower-cased, with the name", () => {
      expect(trustedIdentity({ sub: "s", email: "Ana@Contoso.com", email_verified: true, name: "Ana Lima" }, false)).toEqual({
        ok: true,
        signedIn: { email: "ana@contoso.com", name: "Ana Lima" },
      });
    });
  });

  describe("Entra ID: the account (oid + tid) always; the email only when verified", () => {
    it.each([
      ["no oid", { sub: "s", tid: TID, email: "ana@contoso.com", xms_edov: true }],
      ["no tid", { sub: "s", oid: OID, email: "ana@contoso.com", xms_edov: true }],
      ["an empty oid", { sub: "s", oid: "", tid: TID }],
    ])("%s: refused", (_case, claims) => {
      expect(trustedIdentity(claims, true)).toEqual({ ok: false, refusal: REFUSALS.entraNoAccount });
    });

    it.each<[string, Record<string, unknown>, string | undefined]>([
      ["an email alone (anyone's tenant can set it)", { email: "ana@contoso.com" }, undefined],
      ["xms_edov: false", { email: "ana@contoso.com", xms_edov: false }, undefined],
      ["a preferred_username", { preferred_username: "ana@contoso.com" }, undefined],
      ["xms_edov: true (the tenant owns the domain)", { email: "Ana@contoso.com", xms_edov: true }, "ana@contoso.com"],
      ["email_verified: true", { email: "ana@contoso.com", email_verified: true }, "ana@contoso.com"],
    ])("%s: the account, email %s", (_case, claims, email) => {
      const result = trustedIdentity({ sub: "s", oid: OID.toUpperCase(), tid: TID, ...claims }, true);
      expect(result).toEqual({ ok: true, signedIn: { ...(email ? { email } : {}), entra: { objectId: OID, tenantId: TID } } });
    });
  });
});
