// Seeded mutations of valid inputs with fast-check: a few edits at random places in a JSON value
// (replace with another value of any type, delete, add a key, wrap, edit a string), with values that
// have broken parsers and storage keys before: odd ids, control characters, lone surrogates, huge
// numbers, long strings. fc.sample with the run's seed makes every input reproducible.
import fc from "fast-check";

type Json = unknown;
type Path = (string | number)[];

const NASTY_STRINGS = [
  "",
  " ",
  "\u0000",
  "\u001f\u007f",
  "\ud800",
  "\udfff",
  "a/b",
  "a\\b",
  "a#b",
  "a?b",
  "%2F",
  "..",
  "../../etc/passwd",
  "19:x@thread.tacv2;messageid=1",
  "\u202e",
  "🙂".repeat(50),
  "x".repeat(5000),
  "<at>x</at>",
  "${jndi:x}",
  "'; DROP TABLE issues; --",
  "null",
  "[]",
  "{}",
  "NaN",
  "-0",
  "1e309",
  "C0NOTREAL",
  "T0NOTREAL",
  "U0NOTREAL",
  "29:" + "a".repeat(300),
  "\r\n",
  "\t",
];

export const anyValue: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 2, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.constantFrom(Number.MAX_SAFE_INTEGER + 2, -1, 0, 1.5, 1e308, -1e308) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

type Edit =
  | { op: "replace"; at: number; value: Json }
  | { op: "delete"; at: number }
  | { op: "add"; at: number; key: string; value: Json }
  | { op: "wrap"; at: number }
  | { op: "string"; at: number; how: "truncate" | "append" | "insert"; text: string; where: number };

const editArb: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant("replace" as const), at: fc.nat(), value: anyValue }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("delete" as const), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("add" as const),
      at: fc.nat(),
      key: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom("__proto__", "constructor", "type", "id")),
      value: anyValue,
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("wrap" as const), at: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("string" as const),
      at: fc.nat(),
      how: fc.constantFrom("truncate" as const, "append" as const, "insert" as const),
      text: fc.constantFrom(...NASTY_STRINGS.slice(0, 20)),
      where: fc.nat(),
    }),
  },
);

/** 1–3 edits of `seed`. */
export function mutationsOf<T>(seed: T): fc.Arbitrary<Json> {
  return fc.array(editArb, { minLength: 1, maxLength: 3 }).map((edits) => edits.reduce(applyEdit, structuredClone(seed) as Json));
}

/** Mutations of one of several seeds. */
export function mutationsOfAny(seeds: Json[]): fc.Arbitrary<Json> {
  return fc.oneof(...seeds.map((seed) => mutationsOf(seed)));
}

/** `count` inputs, the same for the same seed. */
export function sampleInputs<T>(arbitrary: fc.Arbitrary<T>, count: number, seed: number): T[] {
  return fc.sample(arbitrary, { numRuns: count, seed });
}

function applyEdit(value: Json, edit: Edit): Json {
  const paths = pathsOf(value);
  const path =
    edit.op === "string" ? stringPaths(value, paths)[edit.at % Math.max(1, stringPaths(value, paths).length)] : paths[edit.at % paths.length];
  if (!path) return value;
  const current = get(value, path);
  switch (edit.op) {
    case "replace":
      return set(value, path, edit.value);
    case "delete":
      return path.length === 0 ? value : remove(value, path);
    case "add":
      if (current && typeof current === "object" && !Array.isArray(current)) {
        Object.defineProperty(current, edit.key, { value: edit.value, enumerable: true, writable: true, configurable: true });
      }
      return value;
    case "wrap":
      return set(value, path, [current]);
    case "string": {
      if (typeof current !== "string") return value;
      const at = current.length ? edit.where % current.length : 0;
      const next =
        edit.how === "truncate"
          ? current.slice(0, at)
          : edit.how === "append"
            ? current + edit.text
            : current.slice(0, at) + edit.text + current.slice(at);
      return set(value, path, next);
    }
  }
}

function pathsOf(value: Json, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((item, i) => pathsOf(item, [...prefix, i], out));
  else if (value && typeof value === "object") for (const [key, item] of Object.entries(value)) pathsOf(item, [...prefix, key], out);
  return out;
}

function stringPaths(value: Json, paths: Path[]): Path[] {
  return paths.filter((path) => typeof get(value, path) === "string");
}

function get(value: Json, path: Path): Json {
  return path.reduce<Json>((node, key) => (node as Record<string | number, Json> | undefined)?.[key], value);
}

function set(value: Json, path: Path, next: Json): Json {
  if (path.length === 0) return next;
  const parent = get(value, path.slice(0, -1)) as Record<string | number, Json>;
  parent[path.at(-1)!] = next;
  return value;
}

function remove(value: Json, path: Path): Json {
  const parent = get(value, path.slice(0, -1));
  const key = path.at(-1)!;
  if (Array.isArray(parent)) parent.splice(Number(key), 1);
  else delete (parent as Record<string, Json>)[key as string];
  return value;
}
