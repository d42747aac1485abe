/** A reply to whoever typed or clicked: only they see it. */
export function ephemeral(text: string) {
  return { response_type: "ephemeral" as const, replace_original: false, text };
}

/**
 * Posts to a response_url (no token: the URL is the credential). It must come from Slack, so it is
 * only ever taken from a verified request; it stays within a short timeout to keep the 3-second ack.
 */
export async function postToResponseUrl(responseUrl: string, body: unknown, timeoutMs: number): Promise<boolean> {
  try {
    const response = await fetch(responseUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return response.ok;
  } catch {
    return false;
  }
}
