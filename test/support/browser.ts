// A cookie-keeping "browser" on fetch for end-to-end flows through HTML pages and redirects
// (sign-in links, OAuth/OIDC authorize → login → callback). It runs no scripts but one: a page that
// only submits its form on load (OAuth form_post, oidc-provider's sign-out confirmation) is submitted.
// No SameSite rules: every request is a top-level navigation. Cookies are kept per host:port.

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const MAX_HOPS = 20;

export interface BrowserResponse {
  status: number;
  /** The URL of this response, after the redirects followed. */
  url: string;
  text: string;
  headers: Headers;
  /** The URLs navigated to on the way (redirects and auto-submitted forms), in order. */
  redirects: string[];
}

export interface NavigateOptions {
  /** Not followed: a redirect (or an auto-submitted form) to a URL for which this is true; that response is returned. */
  stopBefore?: (next: URL) => boolean;
}

export interface FormSubmission extends NavigateOptions {
  /** The form whose action (resolved against the page URL) is this URL. Default: the page's first form. */
  formAction?: string;
  /** Overrides and additions to the form's own fields. */
  fields?: Record<string, string>;
}

interface Request {
  method: "GET" | "POST";
  url: URL;
  form?: URLSearchParams;
}

export class TestBrowser {
  readonly #jar = new CookieJar();

  get(url: string | URL, options: NavigateOptions = {}): Promise<BrowserResponse> {
    return this.#navigate({ method: "GET", url: new URL(url) }, options);
  }

  /** Posts `fields` form-encoded, as a submitted HTML form does. */
  post(url: string | URL, fields: Record<string, string>, options: NavigateOptions = {}): Promise<BrowserResponse> {
    return this.#navigate({ method: "POST", url: new URL(url), form: new URLSearchParams(fields) }, options);
  }

  /** Submits a form of `page` with its own `<input>` values (hidden ones included) plus `fields`. */
  async submitForm(page: BrowserResponse, { formAction, fields = {}, ...options }: FormSubmission = {}): Promise<BrowserResponse> {
    const forms = parseForms(page.text, page.url);
    const wanted = formAction === undefined ? undefined : new URL(formAction, page.url).href;
    const form = forms.find((candidate) => wanted === undefined || candidate.action === wanted);
    if (!form) {
      const actions = forms.map((candidate) => candidate.action).join(", ") || "none";
      throw new Error(`no form ${wanted ? `with action ${wanted} ` : ""}on ${page.url} (form actions: ${actions})`);
    }
    return this.#navigate(submission(form, fields), options);
  }

  /** The cookies this browser would send to `url`. */
  cookies(url: string | URL): Record<string, string> {
    return Object.fromEntries(this.#jar.matching(new URL(url)).map((cookie) => [cookie.name, cookie.value]));
  }

  async #navigate(first: Request, options: NavigateOptions): Promise<BrowserResponse> {
    const redirects: string[] = [];
    let request = first;
    for (;;) {
      const response = await this.#send(request);
      const text = await response.text();
      const next = followUp(request, response, text);
      if (!next || !/^https?:$/.test(next.url.protocol) || options.stopBefore?.(next.url)) {
        return { status: response.status, url: request.url.href, text, headers: response.headers, redirects };
      }
      if (redirects.length === MAX_HOPS) throw new Error(`more than ${MAX_HOPS} hops, the last to ${next.url.href}`);
      redirects.push(next.url.href);
      request = next;
    }
  }

  async #send({ method, url, form }: Request): Promise<Response> {
    const headers = new Headers({ accept: "text/html,application/xhtml+xml,*/*;q=0.8" });
    const cookie = this.#jar.header(url);
    if (cookie) headers.set("cookie", cookie);
    if (form) headers.set("content-type", "application/x-www-form-urlencoded");
    const response = await fetch(url, { method, headers, body: form?.toString(), redirect: "manual" });
    this.#jar.store(url, response.headers.getSetCookie());
    return response;
  }
}

const SUBMITS_ON_LOAD = /<script\b[^>]*>[^<]*\.submit\(\)/i;

/** Where a browser goes next by itself: a redirect's location, or the form a page submits on load. */
function followUp(request: Request, response: Response, html: string): Request | undefined {
  const location = response.headers.get("location");
  if (REDIRECT_STATUSES.has(response.status) && location) {
    const url = new URL(location, request.url);
    // Browsers turn a redirected POST into a GET except on 307/308.
    return response.status === 307 || response.status === 308 ? { ...request, url } : { method: "GET", url };
  }
  const forms = SUBMITS_ON_LOAD.test(html) ? parseForms(html, request.url.href) : [];
  return forms.length === 1 ? submission(forms[0]!, {}) : undefined;
}

function submission(form: Form, fields: Record<string, string>): Request {
  const values = new URLSearchParams(form.fields);
  for (const [name, value] of Object.entries(fields)) values.set(name, value);
  const url = new URL(form.action);
  if (form.method === "post") return { method: "POST", url, form: values };
  url.search = values.toString();
  return { method: "GET", url };
}

/** Signs in on the dev OIDC provider's login page (dev/emulators/oidc) and follows the redirects back to the app. */
export async function signInAs(
  browser: TestBrowser,
  loginPage: BrowserResponse,
  email: string,
  { password, ...options }: NavigateOptions & { password?: string } = {},
): Promise<BrowserResponse> {
  const form = parseForms(loginPage.text, loginPage.url).find((candidate) =>
    /^\/interaction\/[^/]+\/login$/.test(new URL(candidate.action).pathname),
  );
  if (!form) {
    throw new Error(`expected the OIDC login page, got ${loginPage.status} at ${loginPage.url}:\n${loginPage.text.slice(0, 1000)}`);
  }
  return browser.post(form.action, { email, ...(password === undefined ? {} : { password }) }, options);
}

interface Cookie {
  name: string;
  value: string;
  path: string;
  secure: boolean;
  expiresAt: number;
}

class CookieJar {
  readonly #byHost = new Map<string, Cookie[]>();

  store(url: URL, setCookieHeaders: string[]): void {
    for (const header of setCookieHeaders) {
      const cookie = parseSetCookie(header, url);
      if (!cookie) continue;
      const kept = (this.#byHost.get(url.host) ?? []).filter((c) => c.name !== cookie.name || c.path !== cookie.path);
      if (cookie.expiresAt > Date.now()) kept.push(cookie);
      this.#byHost.set(url.host, kept);
    }
  }

  matching(url: URL): Cookie[] {
    const now = Date.now();
    return (this.#byHost.get(url.host) ?? [])
      .filter((c) => c.expiresAt > now && (!c.secure || url.protocol === "https:") && pathMatches(url.pathname, c.path))
      .sort((a, b) => b.path.length - a.path.length);
  }

  header(url: URL): string | undefined {
    const cookies = this.matching(url);
    return cookies.length ? cookies.map((c) => `${c.name}=${c.value}`).join("; ") : undefined;
  }
}

/** RFC 6265 §5.2. Domain is ignored (cookies stay with the host:port that set them); so are HttpOnly and SameSite. */
function parseSetCookie(header: string, url: URL): Cookie | undefined {
  const [pair = "", ...attributes] = header.split(";");
  const eq = pair.indexOf("=");
  const name = pair.slice(0, eq).trim();
  if (eq < 0 || !name) return undefined;
  const cookie: Cookie = { name, value: pair.slice(eq + 1).trim(), path: defaultPath(url), secure: false, expiresAt: Infinity };
  let maxAge: number | undefined;
  let expires: number | undefined;
  for (const attribute of attributes) {
    const [key = "", value = ""] = splitOnce(attribute, "=");
    switch (key.trim().toLowerCase()) {
      case "path":
        if (value.trim().startsWith("/")) cookie.path = value.trim();
        break;
      case "max-age":
        if (/^-?\d+$/.test(value.trim())) maxAge = Number(value.trim());
        break;
      case "expires":
        if (!Number.isNaN(Date.parse(value))) expires = Date.parse(value);
        break;
      case "secure":
        cookie.secure = true;
        break;
    }
  }
  if (maxAge !== undefined) cookie.expiresAt = maxAge <= 0 ? 0 : Date.now() + maxAge * 1000;
  else if (expires !== undefined) cookie.expiresAt = expires;
  return cookie;
}

function defaultPath(url: URL): string {
  const lastSlash = url.pathname.lastIndexOf("/");
  return lastSlash <= 0 ? "/" : url.pathname.slice(0, lastSlash);
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  return requestPath.startsWith(cookiePath) && (cookiePath.endsWith("/") || requestPath[cookiePath.length] === "/");
}

interface Form {
  action: string;
  method: "get" | "post";
  fields: [string, string][];
}

const UNSENT_INPUT_TYPES = new Set(["submit", "button", "image", "reset", "file"]);

/** `<input>`s only: enough for server-rendered login and consent pages. */
function parseForms(html: string, pageUrl: string): Form[] {
  return [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)].map(([, formAttributes = "", body = ""]) => {
    const form = attributesOf(formAttributes);
    const fields: [string, string][] = [];
    for (const [, inputAttributes = ""] of body.matchAll(/<input\b([^>]*)>/gi)) {
      const input = attributesOf(inputAttributes);
      const type = (input.type ?? "text").toLowerCase();
      if (!input.name || UNSENT_INPUT_TYPES.has(type)) continue;
      if ((type === "checkbox" || type === "radio") && !("checked" in input)) continue;
      fields.push([input.name, input.value ?? (type === "checkbox" || type === "radio" ? "on" : "")]);
    }
    return {
      action: new URL(form.action || pageUrl, pageUrl).href,
      method: form.method?.toLowerCase() === "post" ? "post" : "get",
      fields,
    };
  });
}

function attributesOf(source: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const [, name = "", doubleQuoted, singleQuoted, bare] of source.matchAll(
    /([^\s"'=<>/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g,
  )) {
    attributes[name.toLowerCase()] = decodeEntities(doubleQuoted ?? singleQuoted ?? bare ?? "");
  }
  return attributes;
}

const NAMED_ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(?:#(\d+)|#x([\da-f]+)|(\w+));/gi, (entity, decimal?: string, hex?: string, name?: string) => {
    if (decimal) return String.fromCodePoint(Number(decimal));
    if (hex) return String.fromCodePoint(Number.parseInt(hex, 16));
    return NAMED_ENTITIES[name!.toLowerCase()] ?? entity;
  });
}

function splitOnce(text: string, separator: string): [string, string?] {
  const at = text.indexOf(separator);
  return at < 0 ? [text] : [text.slice(0, at), text.slice(at + 1)];
}
