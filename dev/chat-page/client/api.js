// The page server's JSON API. Failures throw with the server's message.

export async function get(path) {
  return answer(await fetch(path, { headers: { accept: "application/json" } }));
}

export async function post(path, body) {
  return answer(await fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }));
}

async function answer(response) {
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error ?? `The page server answered ${response.status}.`);
  return body;
}

/** What to tell someone when the app's answer to a click or a message was not a success. */
export function appProblem(result) {
  if (result.timedOut) return "The app didn't answer within 3 s: Slack or Discord would show an error.";
  if (result.status >= 300) return `The app answered HTTP ${result.status}.`;
  return undefined;
}
