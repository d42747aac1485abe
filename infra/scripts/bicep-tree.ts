// Offline reading of Bicep files: a tree-sitter parse (syntax only: no type check,
// no module resolution, no ARM compilation) plus a small evaluator that turns
// literal parts of the tree into plain values so checks can ask questions like
// "is allowSharedKeyAccess false on every storage account?".

import { readFileSync } from "node:fs";
import path from "node:path";
import { Language, Parser, type Node, type Tree } from "web-tree-sitter";

export type { Node };

export interface BicepFile {
  path: string;
  source: string;
  root: Node;
}

export interface SyntaxProblem {
  line: number;
  column: number;
  message: string;
}

/** Stands for an expression whose value is only known at deployment time. */
export class Unknown {
  constructor(readonly expression: string) {}
  toString(): string {
    return `\${${this.expression}}`;
  }
}

export type Value = string | number | boolean | null | Unknown | Value[] | { [key: string]: Value };

export interface Resource {
  symbol: string;
  /** Full type, including the parent's for a nested child resource. */
  type: string;
  apiVersion: string;
  existing: boolean;
  /** The resource body; for a loop or condition, the body inside it. */
  body: Node | null;
  loop: { item: Node; iterable: Node } | null;
  node: Node;
}

let parserPromise: Promise<Parser> | undefined;
// Node positions are byte offsets: string literals are rebuilt from the source bytes.
const sourceBytes = new WeakMap<Tree, Buffer>();

function bicepParser(): Promise<Parser> {
  parserPromise ??= (async () => {
    await Parser.init();
    const wasm = path.join(path.dirname(require.resolve("tree-sitter-bicep/package.json")), "tree-sitter-bicep.wasm");
    const parser = new Parser();
    parser.setLanguage(await Language.load(wasm));
    return parser;
  })();
  return parserPromise;
}

export async function parseBicep(source: string, filePath = "<inline>"): Promise<BicepFile> {
  const tree = (await bicepParser()).parse(source);
  if (!tree) throw new Error(`tree-sitter returned no tree for ${filePath}`);
  sourceBytes.set(tree, Buffer.from(source));
  return { path: filePath, source, root: tree.rootNode };
}

export async function readBicep(filePath: string): Promise<BicepFile> {
  return parseBicep(readFileSync(filePath, "utf8"), filePath);
}

export function syntaxProblems(file: BicepFile): SyntaxProblem[] {
  const problems: SyntaxProblem[] = [];
  const visit = (node: Node): void => {
    if (node.isMissing) {
      problems.push({ ...position(node), message: `missing ${node.type}` });
    } else if (node.isError) {
      problems.push({ ...position(node), message: `syntax error near ${JSON.stringify(clip(node.text))}` });
    }
    if (node.hasError) node.children.forEach(visit);
  };
  visit(file.root);
  return problems;
}

export function position(node: Node): { line: number; column: number } {
  return { line: node.startPosition.row + 1, column: node.startPosition.column + 1 };
}

/** Named children without comments. */
export function parts(node: Node): Node[] {
  return node.namedChildren.filter((child) => !child.isExtra && child.type !== "comment");
}

/** Every resource declared in the file, nested child resources included. */
export function resources(file: BicepFile): Resource[] {
  const found: Resource[] = [];
  const visit = (node: Node, parentType: string | null): void => {
    for (const child of parts(node)) {
      if (child.type === "resource_declaration") {
        const resource = readResource(child, parentType);
        found.push(resource);
        if (resource.body) visit(resource.body, resource.type);
      } else if (child.type === "object_property" || child.type === "object") {
        visit(child, parentType);
      }
    }
  };
  visit(file.root, null);
  return found;
}

function readResource(node: Node, parentType: string | null): Resource {
  const [symbol, typeNode, value] = parts(node);
  const [typeName = "", apiVersion = ""] = stringValue(typeNode).split("@");
  let body = value ?? null;
  let loop: Resource["loop"] = null;
  if (body?.type === "for_statement") {
    const loopParts = parts(body);
    loop = { item: loopParts[0]!, iterable: loopParts[loopParts.length - 2]! };
    body = loopParts[loopParts.length - 1] ?? null;
  }
  if (body?.type === "if_statement") body = parts(body)[1] ?? null;
  return {
    symbol: symbol?.text ?? "",
    type: parentType ? `${parentType}/${typeName}` : typeName,
    apiVersion,
    existing: node.children.some((child) => child.type === "existing"),
    body: body?.type === "object" ? body : null,
    loop,
    node,
  };
}

export function declarations(file: BicepFile, kind: "variable" | "parameter" | "output" | "module"): Node[] {
  return parts(file.root).filter((node) => node.type === `${kind}_declaration`);
}

export function declarationName(node: Node): string {
  return parts(node)[0]?.text ?? "";
}

/** The value node of a top-level var, or the default of a param. */
export function declaredValue(file: BicepFile, name: string): Node | null {
  for (const node of parts(file.root)) {
    if (node.type !== "variable_declaration" && node.type !== "parameter_declaration") continue;
    const [id, ...rest] = parts(node);
    if (id?.text !== name) continue;
    const value = rest.filter((child) => child.type !== "type").pop();
    return value ?? null;
  }
  return null;
}

/** The object properties of an object node, keyed by their (unquoted) names. */
export function properties(object: Node | null): Map<string, Node> {
  const found = new Map<string, Node>();
  if (object?.type !== "object") return found;
  for (const property of parts(object)) {
    if (property.type !== "object_property") continue;
    const [key, value] = parts(property);
    if (key && value && (key.type === "identifier" || key.type === "string")) {
      found.set(key.type === "string" ? stringValue(key) : key.text, value);
    }
  }
  return found;
}

/** Follows a dotted path of object properties, e.g. "properties.runtime.name". */
export function lookup(object: Node | null, dottedPath: string): Node | null {
  let node: Node | null = object;
  for (const key of dottedPath.split(".")) {
    node = properties(node).get(key) ?? null;
    if (!node) return null;
  }
  return node;
}

/**
 * Evaluates what can be known before deployment. Variables and parameter defaults
 * are followed within the file; `union()` merges objects; a condition over two
 * objects yields every key either branch may set; anything else is Unknown.
 */
export function evaluate(node: Node | null, file: BicepFile, seen = new Set<string>()): Value {
  if (!node) return null;
  switch (node.type) {
    case "string":
      return stringValue(node, file, seen);
    case "number":
      return Number(node.text);
    case "boolean":
      return node.text === "true";
    case "null":
      return null;
    case "array":
      return parts(node).map((item) => evaluate(item, file, seen));
    case "object": {
      const result: Record<string, Value> = {};
      for (const [key, value] of properties(node)) result[key] = evaluate(value, file, seen);
      return result;
    }
    case "parenthesized_expression":
      return evaluate(parts(node)[0] ?? null, file, seen);
    case "identifier": {
      if (seen.has(node.text)) return new Unknown(node.text);
      const declared = declaredValue(file, node.text);
      return declared ? evaluate(declared, file, new Set(seen).add(node.text)) : new Unknown(node.text);
    }
    case "member_expression": {
      const [target, property] = parts(node);
      const value = evaluate(target ?? null, file, seen);
      if (isRecord(value) && property && property.text in value) return value[property.text]!;
      return new Unknown(node.text);
    }
    case "call_expression": {
      const [callee, args] = parts(node);
      if (callee?.text === "union" && args) {
        const values = parts(args).map((arg) => evaluate(arg, file, seen));
        if (values.every(isRecord)) return Object.assign({}, ...values) as Value;
      }
      return new Unknown(node.text);
    }
    case "ternary_expression": {
      const [, whenTrue, whenFalse] = parts(node).map((branch) => evaluate(branch, file, seen));
      if (isRecord(whenTrue) && isRecord(whenFalse)) return { ...whenFalse, ...whenTrue };
      return new Unknown(node.text);
    }
    default:
      return new Unknown(node.text);
  }
}

export function isRecord(value: Value | undefined): value is { [key: string]: Value } {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Unknown);
}

/**
 * The text of a string literal. Interpolations that evaluate to strings are
 * inlined; others stay as `${expression}`.
 */
export function stringValue(node: Node | undefined, file?: BicepFile, seen?: Set<string>): string {
  if (!node || node.type !== "string") return "";
  if (node.text.startsWith("'''")) return node.text.slice(3, -3);
  // Escapes such as \$ are not always nodes of their own: rebuild from the raw text between children.
  const raw = sourceBytes.get(node.tree);
  if (!raw) throw new Error("stringValue() needs a node from parseBicep()");
  let result = "";
  let cursor = node.startIndex + 1;
  for (const child of node.children.slice(1, -1)) {
    result += unescape(raw.subarray(cursor, child.startIndex).toString());
    if (child.type === "interpolation") {
      const value = file ? evaluate(parts(child)[0] ?? null, file, seen) : null;
      result += typeof value === "string" ? value : `\${${child.text.slice(2, -1)}}`;
    } else {
      result += unescape(child.text);
    }
    cursor = child.endIndex;
  }
  return result + unescape(raw.subarray(cursor, node.endIndex - 1).toString());
}

function unescape(text: string): string {
  const escapes: Record<string, string> = { n: "\n", r: "\r", t: "\t", "\\": "\\", "'": "'", $: "$" };
  return text.replace(/\\(u\{[0-9a-fA-F]+\}|.)/g, (whole, code: string) =>
    code.startsWith("u{") ? String.fromCodePoint(parseInt(code.slice(2, -1), 16)) : (escapes[code] ?? whole),
  );
}

function clip(text: string): string {
  const line = text.split("\n")[0] ?? "";
  return line.length > 40 ? `${line.slice(0, 40)}…` : line;
}
