// How the Functions host turns a queue message into the handler's argument.

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes base64 as strictly as .NET's Convert.FromBase64String (whitespace ignored, padding
 * required). Returns undefined when the text isn't base64: the host then poisons the message.
 */
export function decodeBase64Strict(text: string): string | undefined {
  const compact = text.replace(/[ \t\r\n]/g, "");
  if (!BASE64.test(compact)) return undefined;
  return Buffer.from(compact, "base64").toString("utf8");
}

/** JSON payloads arrive as values, anything else as the decoded string. */
export function parseJsonOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Queue names: 3-63 lowercase letters, digits and single hyphens, starting and ending alphanumeric. */
export function isValidQueueName(name: string): boolean {
  return /^[a-z0-9](?:[a-z0-9]|-(?!-)){1,61}[a-z0-9]$/.test(name);
}
