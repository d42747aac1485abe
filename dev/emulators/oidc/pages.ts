import type { Person } from "./people";

export interface LoginPageInput {
  uid: string;
  clientId: string;
  people: { person: Person; hasPassword: boolean }[];
  error?: string;
  /** Refills the "another account" form after a failed attempt. */
  email?: string;
}

/** One form per person; every form posts `email` (+ `password`) to `/interaction/:uid/login`. */
export function loginPage({ uid, clientId, people, error, email = "" }: LoginPageInput): string {
  const action = `/interaction/${encodeURIComponent(uid)}`;
  const personForms = people.map(
    ({ person, hasPassword }) => `
    <form method="post" action="${action}/login" class="person">
      <input type="hidden" name="email" value="${escapeHtml(person.email)}">
      ${hasPassword ? `<input type="password" name="password" placeholder="Password" aria-label="Password for ${escapeHtml(person.name)}">` : ""}
      <button type="submit">${escapeHtml(person.name)} <small>${escapeHtml(person.email)}</small></button>
    </form>`,
  );
  return layout(
    "Sign in",
    `
    <h1>Sign in</h1>
    <p>to continue to <strong>${escapeHtml(clientId)}</strong></p>
    ${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ""}
    ${personForms.join("")}
    <form method="post" action="${action}/login" class="other">
      <input type="email" name="email" placeholder="Another account" aria-label="Email" value="${escapeHtml(email)}">
      <input type="password" name="password" placeholder="Password" aria-label="Password">
      <button type="submit">Sign in</button>
    </form>
    <form method="post" action="${action}/abort">
      <button type="submit" class="cancel">Cancel</button>
    </form>`,
  );
}

export function messagePage(title: string, lines: string[]): string {
  return layout(title, `<h1>${escapeHtml(title)}</h1>${lines.map((line) => `<p>${escapeHtml(line)}</p>`).join("")}`);
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(title)} · Triage Relay dev identity provider</title>
  <style>
    body { font: 15px/1.4 system-ui, sans-serif; max-width: 26rem; margin: 3rem auto; padding: 0 1rem; color: #222; }
    form { display: flex; gap: .5rem; margin: .5rem 0; }
    form.other { margin-top: 1.5rem; }
    button { flex: 1; padding: .6rem; text-align: left; cursor: pointer; }
    button.cancel { flex: 0; text-align: center; }
    input { flex: 1; padding: .5rem; min-width: 0; }
    small { color: #666; }
    .error { color: #a00; }
  </style>
</head>
<body>${body}
</body>
</html>
`;
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
