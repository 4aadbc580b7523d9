import { errors } from './errors.ts';

/**
 * Graph API field expansion: `id,reactions.summary(total_count).limit(0),children{id,media_type}`.
 */
export type FieldSpec = {
  readonly name: string;
  readonly modifiers: Readonly<Record<string, string>>;
  readonly subfields?: readonly FieldSpec[] | undefined;
};

export function parseFields(raw: string | undefined): FieldSpec[] | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  return splitTopLevel(raw).map(parseField);
}

function splitTopLevel(raw: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of raw) {
    if (char === '(' || char === '{') depth += 1;
    if (char === ')' || char === '}') depth -= 1;
    if (depth < 0) throw errors.invalidParameter(`Syntax error in fields: ${raw}`);
    if (char === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else {
      current += char;
    }
  }
  if (depth !== 0) throw errors.invalidParameter(`Syntax error in fields: ${raw}`);
  parts.push(current.trim());
  return parts.filter(Boolean);
}

function parseField(raw: string): FieldSpec {
  const braceAt = raw.indexOf('{');
  const head = braceAt === -1 ? raw : raw.slice(0, braceAt);
  const subfields = braceAt === -1 ? undefined : splitTopLevel(raw.slice(braceAt + 1, raw.lastIndexOf('}'))).map(parseField);
  const [name = '', ...calls] = head.split('.');
  const modifiers: Record<string, string> = {};
  for (const call of calls) {
    const match = /^(\w+)\(([^)]*)\)$/.exec(call.trim());
    if (!match?.[1]) throw errors.invalidParameter(`Syntax error in fields: ${raw}`);
    modifiers[match[1]] = match[2] ?? '';
  }
  if (!/^\w+$/.test(name.trim())) throw errors.invalidParameter(`Syntax error in fields: ${raw}`);
  return { name: name.trim(), modifiers, subfields };
}

/**
 * Picks the requested fields from a node. Each available field is a thunk so only requested ones are computed;
 * a field the node does not have fails the request, as Meta does. `undefined` values are left out.
 */
export function selectFields(
  nodeType: string,
  available: Readonly<Record<string, (spec: FieldSpec) => unknown>>,
  requested: readonly FieldSpec[] | undefined,
  defaults: readonly string[],
): Record<string, unknown> {
  const specs = requested ?? defaults.map((name) => ({ name, modifiers: {} }));
  const out: Record<string, unknown> = {};
  for (const spec of specs) {
    const read = available[spec.name];
    if (!read) throw errors.nonexistingField(spec.name, nodeType);
    const value = read(spec);
    if (value !== undefined) out[spec.name] = value;
  }
  return out;
}
