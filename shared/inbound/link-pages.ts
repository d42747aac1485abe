import type { HttpResponseInit } from "@azure/functions";

/** A link page as the HTTP answer, setting the session cookie when the page comes with one. */
export function pageResponse({
  cookie,
  ...page
}: {
  status: number;
  headers: Record<string, string>;
  body: string;
  cookie?: string;
}): HttpResponseInit {
  return { ...page, headers: { ...page.headers, ...(cookie ? { "set-cookie": cookie } : {}) } };
}
