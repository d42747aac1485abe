// ASP.NET-style route templates as the Functions host understands them: `issues/{id}`, `{id?}`,
// `{id:int}`, `{*rest}`. Literals match case-insensitively; a trailing slash is ignored.
// Unsupported syntax (default values, optional parameters inside a segment) fails at startup.

export interface CompiledRoute {
  /** The full template, e.g. `/api/issues/{id}`. */
  template: string;
  /** Lower sorts first: literal segments beat constrained parameters beat parameters beat catch-alls. */
  precedence: number[];
  /** Route parameters (decoded) when `path` (URL-encoded, no query) matches, else undefined. */
  match(path: string): Record<string, string> | undefined;
}

interface Parameter {
  name: string;
  constraints: Constraint[];
}

type Constraint = (value: string) => boolean;

const RANK = { literal: 1, mixed: 2, constrained: 3, parameter: 4, catchAll: 5 } as const;

export function compileRoute(template: string): CompiledRoute {
  const segments = template.split("/").filter(Boolean);
  const parameters: Parameter[] = [];
  const precedence: number[] = [];
  let pattern = "";
  segments.forEach((segment, index) => {
    const compiled = compileSegment(segment, index === segments.length - 1, template);
    pattern += compiled.pattern;
    parameters.push(...compiled.parameters);
    precedence.push(compiled.rank);
  });
  const regex = new RegExp(`^${pattern}/?$`, "i");
  return {
    template: `/${segments.join("/")}`,
    precedence,
    match: (path) => matchParameters(regex.exec(path), parameters),
  };
}

export function comparePrecedence(a: CompiledRoute, b: CompiledRoute): number {
  for (let i = 0; i < Math.min(a.precedence.length, b.precedence.length); i++) {
    const difference = a.precedence[i]! - b.precedence[i]!;
    if (difference !== 0) return difference;
  }
  return a.precedence.length - b.precedence.length;
}

function matchParameters(match: RegExpExecArray | null, parameters: Parameter[]): Record<string, string> | undefined {
  if (!match) return undefined;
  const values: Record<string, string> = {};
  for (const [index, parameter] of parameters.entries()) {
    const raw = match[index + 1];
    if (raw === undefined || raw === "") continue;
    const value = safeDecode(raw);
    if (value === undefined || !parameter.constraints.every((accepts) => accepts(value))) return undefined;
    values[parameter.name] = value;
  }
  return values;
}

function safeDecode(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

interface CompiledSegment {
  pattern: string;
  parameters: Parameter[];
  rank: number;
}

function compileSegment(segment: string, isLast: boolean, template: string): CompiledSegment {
  const catchAll = /^\{\*{1,2}([^{}]+)\}$/.exec(segment);
  if (catchAll) {
    if (!isLast) throw new Error(`route "${template}": a catch-all parameter must be the last segment`);
    return { pattern: "(?:/(.*))?", parameters: [parseParameter(catchAll[1]!, template).parameter], rank: RANK.catchAll };
  }
  const whole = /^\{([^{}]+)\}$/.exec(segment);
  if (whole) {
    const { parameter, optional } = parseParameter(whole[1]!, template);
    if (optional && !isLast) throw new Error(`route "${template}": only the last segment can be optional`);
    const rank = parameter.constraints.length > 0 ? RANK.constrained : RANK.parameter;
    return { pattern: optional ? "(?:/([^/]+))?" : "/([^/]+)", parameters: [parameter], rank };
  }
  return compileMixedSegment(segment, template);
}

/** A literal segment, or literals mixed with required parameters such as `{name}.{ext}`. */
function compileMixedSegment(segment: string, template: string): CompiledSegment {
  const parameters: Parameter[] = [];
  let pattern = "/";
  for (const part of segment.split(/(\{[^{}]*\})/).filter(Boolean)) {
    if (!part.startsWith("{")) {
      if (/[{}]/.test(part)) throw new Error(`route "${template}": unbalanced braces in "${segment}"`);
      pattern += escapeRegex(part);
      continue;
    }
    const { parameter, optional } = parseParameter(part.slice(1, -1), template);
    if (optional) throw new Error(`route "${template}": optional parameters must be a whole segment`);
    parameters.push(parameter);
    pattern += "([^/]+?)";
  }
  return { pattern, parameters, rank: parameters.length > 0 ? RANK.mixed : RANK.literal };
}

function parseParameter(text: string, template: string): { parameter: Parameter; optional: boolean } {
  const optional = text.endsWith("?");
  const [name = "", ...constraintTexts] = (optional ? text.slice(0, -1) : text).split(/:(?![^(]*\))/);
  if (!/^[A-Za-z_][\w-]*$/.test(name)) {
    throw new Error(`route "${template}": unsupported parameter "{${text}}" (default values are not supported)`);
  }
  const constraints = constraintTexts.map((constraint) => parseConstraint(constraint, template));
  return { parameter: { name, constraints }, optional };
}

const NUMBER = /^-?\d+(\.\d+)?$/;
const SIMPLE_CONSTRAINTS: Record<string, Constraint> = {
  int: (v) => /^-?\d+$/.test(v) && Number(v) >= -(2 ** 31) && Number(v) < 2 ** 31,
  long: (v) => /^-?\d+$/.test(v),
  bool: (v) => /^(true|false)$/i.test(v),
  guid: (v) => /^\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$/i.test(v),
  alpha: (v) => /^[a-z]+$/i.test(v),
  double: (v) => NUMBER.test(v),
  float: (v) => NUMBER.test(v),
  decimal: (v) => NUMBER.test(v),
  datetime: (v) => !Number.isNaN(Date.parse(v)),
};

function parseConstraint(text: string, template: string): Constraint {
  const simple = SIMPLE_CONSTRAINTS[text.toLowerCase()];
  if (simple) return simple;
  const call = /^(\w+)\((.*)\)$/.exec(text);
  const [, kind = "", argumentText = ""] = call ?? [];
  const numbers = argumentText.split(",").map(Number);
  const [a = NaN, b = NaN] = numbers;
  switch (kind.toLowerCase()) {
    case "min":
      return (v) => NUMBER.test(v) && Number(v) >= a;
    case "max":
      return (v) => NUMBER.test(v) && Number(v) <= a;
    case "range":
      return (v) => NUMBER.test(v) && Number(v) >= a && Number(v) <= b;
    case "minlength":
      return (v) => v.length >= a;
    case "maxlength":
      return (v) => v.length <= a;
    case "length":
      return numbers.length === 1 ? (v) => v.length === a : (v) => v.length >= a && v.length <= b;
    case "regex": {
      const regex = new RegExp(argumentText, "i");
      return (v) => regex.test(v);
    }
    default:
      throw new Error(`route "${template}": unsupported constraint "${text}"`);
  }
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
