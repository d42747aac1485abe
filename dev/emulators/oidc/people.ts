import { createHash } from "node:crypto";

export interface PersonInput {
  /** What they type (or click) on the login page; also the ID token's `email` unless `claims` says otherwise. */
  email: string;
  name: string;
  /** Default: derived from the email, so it stays the same across restarts. */
  sub?: string;
  /** Without one the person signs in with a click. */
  password?: string;
  /**
   * What the ID token says instead of the defaults (`email`, `email_verified: true`, `name`,
   * `preferred_username`), or on top of them (Entra's `oid`, `tid`, `xms_edov`); `null` leaves a claim out.
   */
  claims?: Readonly<Record<string, unknown>>;
}

export interface Person {
  readonly sub: string;
  readonly email: string;
  readonly name: string;
  /** The ID token's claims about this person, `sub` included. */
  readonly claims: Readonly<Record<string, unknown>>;
}

/** Passwordless: a click on the login page signs them in. */
export const DEMO_PEOPLE: readonly PersonInput[] = [
  { email: "ana@triage.dev", name: "Ana Lima" },
  { email: "ben@triage.dev", name: "Ben Okafor" },
];

export type CheckResult = { ok: true; person: Person } | { ok: false; reason: string };

export class Directory {
  readonly #byEmail = new Map<string, { person: Person; password?: string }>();
  readonly #bySub = new Map<string, Person>();

  constructor(inputs: readonly PersonInput[]) {
    for (const input of inputs) this.add(input);
  }

  add(input: PersonInput): Person {
    const email = input.email.trim();
    const sub = input.sub ?? stableSub(email);
    const person: Person = { sub, email, name: input.name, claims: tokenClaims(sub, email, input) };
    if (this.#byEmail.has(key(email))) throw new Error(`duplicate person ${email}`);
    if (this.#bySub.has(person.sub)) throw new Error(`duplicate sub ${person.sub}`);
    this.#byEmail.set(key(email), { person, password: input.password });
    this.#bySub.set(person.sub, person);
    return person;
  }

  get people(): Person[] {
    return [...this.#bySub.values()];
  }

  hasPassword(person: Person): boolean {
    return this.#byEmail.get(key(person.email))?.password !== undefined;
  }

  bySub(sub: string): Person | undefined {
    return this.#bySub.get(sub);
  }

  check(email: string, password: string): CheckResult {
    const entry = this.#byEmail.get(key(email));
    if (!entry) return { ok: false, reason: `No account for ${email.trim() || "an empty email"}.` };
    if (entry.password !== undefined && entry.password !== password) {
      return { ok: false, reason: "Wrong password." };
    }
    return { ok: true, person: entry.person };
  }
}

function tokenClaims(sub: string, email: string, input: PersonInput): Record<string, unknown> {
  const claims: Record<string, unknown> = { email, email_verified: true, name: input.name, preferred_username: email, ...input.claims, sub };
  for (const [name, value] of Object.entries(claims)) if (value === null || value === undefined) delete claims[name];
  return claims;
}

/** Shaped like Entra's `sub`: 43 base64url characters, opaque to the app. */
function stableSub(email: string): string {
  return createHash("sha256")
    .update(`triage-relay-dev:${key(email)}`)
    .digest("base64url");
}

function key(email: string): string {
  return email.trim().toLowerCase();
}
