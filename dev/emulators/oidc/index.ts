import { clientMetadata, providerConfiguration, type ClientInput } from "./configuration";
import { DEMO_PEOPLE, Directory, type Person, type PersonInput } from "./people";
import { listen, routes } from "./server";
import { memoryAdapter } from "./store";

export type { ClientInput } from "./configuration";
export { DEMO_PEOPLE, type Person, type PersonInput } from "./people";

export interface OidcProviderOptions {
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  clients: readonly ClientInput[];
  /** Default `DEMO_PEOPLE`: Ana Lima and Ben Okafor, passwordless. */
  people?: readonly PersonInput[];
  /** Server errors and interaction failures. Default: silent. */
  log?: (line: string) => void;
  /**
   * Look like Microsoft Entra ID: publish Entra's discovery fields (`cloud_instance_name`, …), so the app
   * applies its Entra rules. Give people Entra's claims (`oid`, `tid`, `xms_edov`) through `claims`.
   */
  entra?: boolean;
}

export interface SignIn {
  email: string;
  clientId: string;
  at: Date;
}

export interface OidcProvider {
  /** `http://127.0.0.1:<port>`; discovery at `${issuer}/.well-known/openid-configuration`. */
  readonly issuer: string;
  /** Everyone on the login page, `addPerson` included. */
  readonly people: readonly Person[];
  /** Successful logins on the login page, oldest first. Single sign-on with an existing session adds none. */
  readonly signIns: readonly SignIn[];
  /** Someone more on the login page, from now on. */
  addPerson(person: PersonInput): Person;
  /** A client registered after start: for an app whose callback URL is known only once it listens. */
  addClient(client: ClientInput): Promise<void>;
  /**
   * An outage of the token endpoint: until called again with `undefined`, every token request is answered with
   * this status and a gateway's HTML page (what a provider's front end sends while the service behind is down).
   */
  failTokenRequests(status: number | undefined): void;
  stop(): Promise<void>;
}

/** oidc-provider's default route for the token endpoint. */
const TOKEN_PATH = "/token";

/**
 * oidc-provider 9 warns "Unsupported runtime. Use Node.js v22.x LTS" once as it loads on Node 20. The app
 * supports Node 20.19+ and 22 (Azure runs 22), and this dev provider works on both (its tests run on 20),
 * so that one line is dropped; any other warning passes through.
 */
async function importOidcProvider(): Promise<typeof import("oidc-provider")> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === "string" && args[0].includes("oidc-provider WARNING: Unsupported runtime")) return;
    warn(...args);
  };
  try {
    // ESM-only: a dynamic import loads it from CommonJS (tsx) and ESM (vitest) alike.
    return await import("oidc-provider");
  } finally {
    console.warn = warn;
  }
}

/**
 * A real OpenID Connect provider (panva's oidc-provider) on plain http: Authorization Code with PKCE (S256)
 * only, RS256 ID tokens carrying sub, email, email_verified, name and preferred_username by default, and
 * whatever else (or less) a person's `claims` say.
 */
export async function startOidcProvider(opts: OidcProviderOptions): Promise<OidcProvider> {
  const { Provider, errors, interactionPolicy } = await importOidcProvider();
  const directory = new Directory(opts.people ?? DEMO_PEOPLE);
  const adapter = memoryAdapter();
  const configuration = await providerConfiguration(opts.clients, directory, interactionPolicy, { adapter, entra: opts.entra ?? false });
  const log = opts.log ?? (() => {});
  const signIns: SignIn[] = [];

  const running = await listen(opts.port ?? 0, opts.host ?? "127.0.0.1");
  let tokenOutage: number | undefined;
  try {
    const provider = new Provider(running.url, configuration);
    provider.on("server_error", (_ctx, error) => log(`server_error: ${error.stack ?? error.message}`));
    const callback = provider.callback();
    const providerOrOutage: typeof callback = (req, res) => {
      if (tokenOutage !== undefined && req.method === "POST" && (req.url ?? "").split("?")[0] === TOKEN_PATH) {
        res.writeHead(tokenOutage, { "content-type": "text/html" }).end("<html><body><h1>Service Unavailable</h1></body></html>");
        return;
      }
      return callback(req, res);
    };
    running.server.on(
      "request",
      routes(providerOrOutage, {
        provider,
        directory,
        isSessionNotFound: (error) => error instanceof errors.SessionNotFound,
        onSignIn: (person, clientId) => signIns.push({ email: person.email, clientId, at: new Date() }),
        log,
      }),
    );
  } catch (error) {
    await running.close();
    throw error;
  }

  return {
    issuer: running.url,
    get people() {
      return directory.people;
    },
    signIns,
    addPerson: (person) => directory.add(person),
    // oidc-provider looks up a client it wasn't configured with in its adapter.
    addClient: (client) => adapter("Client").upsert(client.clientId, { ...clientMetadata(client) }),
    failTokenRequests: (status) => {
      tokenOutage = status;
    },
    stop: () => running.close(),
  };
}
