/**
 * Redaction by path (`a.b`, `a["b-c"]`, `*` for any key or index), compiled once into a tree. pino's own
 * `redact` option does the same job through @pinojs/redact, which parses every path again on every call
 * and runs on every child logger's bindings: at the gateway's request rate that was a tenth of its CPU.
 * A walk here touches only the levels the paths reach, and copies only what it censors (the logged
 * object itself is never changed).
 */
type PathNode = {
  readonly censor: boolean;
  readonly children: Map<string, PathNode>;
  readonly any: PathNode | undefined;
};

const SEGMENT = /[^.[\]]+|\[(["'`])(.*?)\1\]/g;

export function parsePath(path: string): string[] {
  return [...path.matchAll(SEGMENT)].map((match) => match[2] ?? match[0]);
}

type Draft = { censor: boolean; children: Map<string, Draft>; any: Draft | undefined };
const emptyDraft = (): Draft => ({ censor: false, children: new Map(), any: undefined });

/** One node standing for both: what a key matched by name and by `*` each require below it. */
function merge(first: Draft | undefined, second: Draft | undefined): Draft | undefined {
  if (!first) return second;
  if (!second) return first;
  const merged: Draft = { censor: first.censor || second.censor, children: new Map(), any: merge(first.any, second.any) };
  for (const key of new Set([...first.children.keys(), ...second.children.keys()])) {
    merged.children.set(key, merge(first.children.get(key) ?? first.any, second.children.get(key) ?? second.any) ?? emptyDraft());
  }
  return merged;
}

/** Folds `*` into every named sibling, so a walk looks each key up once. */
function seal(draft: Draft): PathNode {
  const children = new Map<string, PathNode>();
  for (const [key, child] of draft.children) children.set(key, seal(merge(child, draft.any) ?? child));
  return { censor: draft.censor, children, any: draft.any ? seal(draft.any) : undefined };
}

export type Redactor = (value: unknown) => unknown;

export type Redaction = {
  /** `value` itself when nothing in it matches, else a copy with every match censored. */
  readonly redact: Redactor;
  /** The same for a value found under `key` of the root (a serializer's output). */
  readonly under: (key: string) => Redactor;
  /** `under(key)(value)` without making a function. */
  readonly at: (key: string, value: unknown) => unknown;
};

export function compileRedaction(paths: readonly string[], censor: string): Redaction {
  const root = emptyDraft();
  for (const path of paths) {
    let node = root;
    for (const segment of parsePath(path)) {
      if (segment === '*') node = node.any ??= emptyDraft();
      else {
        let next = node.children.get(segment);
        if (!next) node.children.set(segment, (next = emptyDraft()));
        node = next;
      }
    }
    node.censor = true;
  }
  const tree = seal(root);

  const walk = (value: unknown, node: PathNode): unknown => {
    if (typeof value !== 'object' || value === null) return value;
    const source = value as Record<string, unknown>;
    let copy: Record<string, unknown> | undefined;
    for (const key of Object.keys(source)) {
      const child = node.children.get(key) ?? node.any;
      if (!child) continue;
      const original = source[key];
      const replaced = child.censor ? (original === undefined ? undefined : censor) : walk(original, child);
      if (replaced !== original) {
        copy ??= copyOf(source);
        // Defined, not assigned: a copied accessor or read-only property must not run or refuse.
        Object.defineProperty(copy, key, { value: replaced, enumerable: true, writable: true, configurable: true });
      }
    }
    return copy ?? value;
  };
  const nodeUnder = (key: string) => tree.children.get(key) ?? tree.any;
  const at = (key: string, value: unknown) => {
    const node = nodeUnder(key);
    if (!node) return value;
    return node.censor ? (value === undefined ? undefined : censor) : walk(value, node);
  };
  return {
    at,
    redact: (value) => walk(value, tree),
    under: (key) => (value) => at(key, value),
  };
}

/** A shallow copy that keeps what a serializer looks at: arrays stay arrays, errors keep message and stack. */
function copyOf(source: Record<string, unknown>): Record<string, unknown> {
  if (Array.isArray(source)) return [...(source as unknown[])] as unknown as Record<string, unknown>;
  const prototype: unknown = Object.getPrototypeOf(source);
  if (prototype === Object.prototype || prototype === null) return { ...source };
  return Object.create(prototype as object, Object.getOwnPropertyDescriptors(source)) as Record<string, unknown>;
}
