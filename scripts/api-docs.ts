// The generated parts of docs/resources/<kind>.md, rendered from the CRDs (crds/*.yaml): the
// printer columns, and a field reference of spec and status with every field's type, default,
// validation (enum, pattern, bounds, list and map types, CEL rules with their messages), an
// example and its description. Pure: scripts/gen-api-docs.ts reads and writes the files.
//
// Each page is hand-written around generated sections (columns, spec, status), marked as
// scripts/api-docs-sections.ts finds them; only what lies between the markers is generated. The
// examples in the field tables are taken from the page's own YAML examples (complete
// resources, which test/unit/api-docs.test.ts checks against the schema and the integration
// suite sends to a real API server), so every example shown is one the API accepts.
import { parseAllDocuments, stringify } from 'yaml';

import type { OpenApiSchema } from '../api/src/openapi.js';
import type { PrinterColumn } from './api-schema.js';

export const API_VERSION = 'edgewarden.io/v1alpha1';
export const RESOURCE_DOCS_DIR = 'docs/resources';

/** The parts of a generated CRD (crds/<plural>.yaml) the pages are made from. */
export interface Crd {
  spec: {
    names: { kind: string; plural: string; singular: string; shortNames?: string[] };
    versions: {
      name: string;
      additionalPrinterColumns?: PrinterColumn[];
      schema: { openAPIV3Schema: OpenApiSchema };
    }[];
  };
}

/** The page of a kind: docs/resources/<singular>.md. */
export const docFileOf = (crd: Crd): string => `${RESOURCE_DOCS_DIR}/${crd.spec.names.singular}.md`;

/** One row of a field table. */
export interface FieldRow {
  /** `spec.source.columns.id`; list items as `[]`: `spec.tolerations[].key`. */
  path: string;
  schema: OpenApiSchema;
  required: boolean;
  /** CEL rules of the parent reported at this field (their fieldPath names it). */
  rules: { rule: string; message?: string }[];
}

type Rule = NonNullable<OpenApiSchema['x-kubernetes-validations']>[number];

/** A rule's fieldPath as the property it names (`.table` -> `table`), if it names one. */
function ruleField(rule: Rule): string | undefined {
  return /^\.([A-Za-z0-9_]+)$/.exec(rule.fieldPath ?? '')?.[1];
}

/**
 * Every field under `schema` (an object's properties, and the properties of list items that
 * are objects), depth first, each with the rules its parent reports at it. Maps
 * (additionalProperties) and lists of scalars are one row: their values' constraints are
 * shown on it.
 */
export function fieldRows(
  schema: OpenApiSchema,
  at: string,
  required = false,
  rules: Rule[] = [],
): FieldRow[] {
  const own = (schema['x-kubernetes-validations'] ?? []).filter(
    (r) => !(ruleField(r) && schema.properties?.[ruleField(r)!]),
  );
  const rows: FieldRow[] = [{ path: at, schema, required, rules: [...rules, ...own] }];
  const object = schema.type === 'array' ? schema.items : schema;
  const prefix = schema.type === 'array' ? `${at}[]` : at;
  if (object?.properties) {
    const parentRules = object['x-kubernetes-validations'] ?? [];
    // A list of objects: the item's own rules (none today) are the list's.
    if (object !== schema) rows[0]!.rules.push(...parentRules.filter((r) => !ruleField(r)));
    for (const [key, child] of Object.entries(object.properties))
      rows.push(
        ...fieldRows(
          child,
          `${prefix}.${key}`,
          object.required?.includes(key) ?? false,
          parentRules.filter((r) => ruleField(r) === key),
        ),
      );
  }
  return rows;
}

/** `string`, `integer (int32)`, `[]object`, `map[string]string`, `int-or-string`. */
export function typeOf(schema: OpenApiSchema): string {
  if (schema['x-kubernetes-int-or-string']) return 'int-or-string';
  if (schema.type === 'array') return `[]${schema.items ? typeOf(schema.items) : 'any'}`;
  if (schema.type === 'object' && typeof schema.additionalProperties === 'object')
    return `map[string]${typeOf(schema.additionalProperties)}`;
  const type = schema.type ?? 'any';
  return schema.format ? `${type} (${schema.format})` : type;
}

const code = (text: string): string => `\`${text}\``;

/** YAML flow style, one line: `{cpu: 50m, memory: 128Mi}`, `[logs, anomalies]`, `"True"`. */
export function flow(value: unknown): string {
  return stringify(value, {
    collectionStyle: 'flow',
    flowCollectionPadding: false,
    lineWidth: 0,
  }).trim();
}

const EXAMPLE_WIDTH = 60;
/** Wider for one value, so that a SHA-256 (64 hex digits) is shown whole. */
const SCALAR_WIDTH = 72;

/**
 * An example short enough for a table cell: long objects and lists keep their first entries,
 * a long text its beginning (`…` marks what is left out).
 */
export function shortExample(value: unknown): string {
  const whole = flow(value);
  if (value === null || typeof value !== 'object')
    return whole.length <= SCALAR_WIDTH ? whole : `${whole.slice(0, EXAMPLE_WIDTH - 1).trimEnd()}…`;
  if (whole.length <= EXAMPLE_WIDTH) return whole;
  const entries = Array.isArray(value)
    ? value.map((v) => shortExample(v))
    : Object.entries(value as Record<string, unknown>).map(
        ([k, v]) =>
          `${flow(k)}: ${v !== null && typeof v === 'object' ? (Array.isArray(v) ? '[…]' : '{…}') : flow(v)}`,
      );
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  let text = '';
  for (const entry of entries) {
    const next = text ? `${text}, ${entry}` : entry;
    if (`${open}${next}, …${close}`.length > EXAMPLE_WIDTH && text)
      return `${open}${text}, …${close}`;
    text = next;
  }
  return `${open}${text}${close}`;
}

function lengthText(
  min: number | undefined,
  max: number | undefined,
  unit: string,
  units = `${unit}s`,
): string[] {
  const plural = (n: number) => `${n} ${n === 1 ? unit : units}`;
  if (min !== undefined && max !== undefined)
    return [min === max ? `exactly ${plural(max)}` : `${min} to ${plural(max)}`];
  if (max !== undefined) return [`at most ${plural(max)}`];
  if (min !== undefined) return [`at least ${plural(min)}`];
  return [];
}

/** What a value must be: enum, pattern, lengths, bounds (no list, map or CEL rules). */
function valueRules(schema: OpenApiSchema): string[] {
  const out: string[] = [];
  if (schema.enum) out.push(`one of ${schema.enum.map((v) => code(flow(v))).join(', ')}`);
  if (schema.pattern) out.push(`pattern ${code(schema.pattern)}`);
  // An enum's maxLength is the generator's bound for CEL's cost estimate, not a rule of its own.
  if (!schema.enum) out.push(...lengthText(schema.minLength, schema.maxLength, 'character'));
  if (schema.minimum !== undefined && schema.maximum !== undefined)
    out.push(`${schema.minimum} to ${schema.maximum}`);
  else if (schema.minimum !== undefined) out.push(`at least ${schema.minimum}`);
  else if (schema.maximum !== undefined) out.push(`at most ${schema.maximum}`);
  return out;
}

/** Every rule on a field, in words. */
export function validationOf(row: FieldRow): string[] {
  const s = row.schema;
  const out: string[] = [];
  if (row.required) out.push('required');
  out.push(...valueRules(s));
  out.push(...lengthText(s.minItems, s.maxItems, 'item'));
  if (s.maxProperties !== undefined)
    out.push(...lengthText(undefined, s.maxProperties, 'entry', 'entries'));
  if (s['x-kubernetes-list-type'] === 'set') out.push('no duplicates (a set)');
  if (s['x-kubernetes-list-type'] === 'map')
    out.push(`one item per ${(s['x-kubernetes-list-map-keys'] ?? []).map(code).join(', ')}`);
  if (s['x-kubernetes-map-type'] === 'atomic') out.push('replaced as a whole (atomic)');
  if (s.type === 'array' && s.items && !s.items.properties) {
    const each = valueRules(s.items);
    if (each.length) out.push(`each item: ${each.join(', ')}`);
  }
  if (typeof s.additionalProperties === 'object') {
    const each = valueRules(s.additionalProperties);
    if (each.length) out.push(`each value: ${each.join(', ')}`);
  }
  for (const r of row.rules) out.push(`rule: ${r.message ?? code(r.rule)}`);
  return out;
}

/** A table cell: no line breaks, pipes escaped (GitHub reads `\|` as a pipe, in code too). */
const cell = (text: string): string => text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');

/** Field path -> the first value the page's examples give it. */
export type Examples = Map<string, unknown>;

/** Records every value of `value` by field path, walking it with its schema. */
function collect(schema: OpenApiSchema, value: unknown, at: string, into: Examples): void {
  if (value === undefined) return;
  if (!into.has(at)) into.set(at, value);
  if (schema.type === 'array' && Array.isArray(value) && schema.items?.properties)
    for (const item of value) collect(schema.items, item, `${at}[]`, into);
  if (schema.properties && value !== null && typeof value === 'object' && !Array.isArray(value))
    for (const [key, child] of Object.entries(schema.properties))
      collect(child, (value as Record<string, unknown>)[key], `${at}.${key}`, into);
}

/** The YAML code blocks of a Markdown page, as written (```yaml fences). */
export function yamlBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```yaml\n([\s\S]*?)^```\s*$/gm)].map((m) => m[1]!);
}

/** The resources of a Markdown page's YAML blocks (every document, every kind). */
export function resourcesIn(markdown: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const block of yamlBlocks(markdown))
    for (const doc of parseAllDocuments(block)) {
      if (doc.errors.length > 0) throw doc.errors[0]!;
      const value: unknown = doc.toJS();
      if (value !== null && typeof value === 'object') out.push(value as Record<string, unknown>);
    }
  return out;
}

/** The examples a page gives for its kind's fields, from its YAML blocks. */
export function examplesIn(markdown: string, crd: Crd): Examples {
  const schema = crd.spec.versions[0]!.schema.openAPIV3Schema;
  const examples: Examples = new Map();
  for (const resource of resourcesIn(markdown)) {
    if (resource.apiVersion !== API_VERSION || resource.kind !== crd.spec.names.kind) continue;
    for (const top of ['spec', 'status'])
      collect(schema.properties![top]!, resource[top], top, examples);
  }
  return examples;
}

/**
 * Fields whose examples are another field's, because they hold the same thing: a
 * ModelDeployment's status.stable.source is the spec.source it was rolled out from.
 */
export const EXAMPLE_ALIASES: Record<string, [from: string, to: string][]> = {
  ModelDeployment: [['status.stable.source', 'spec.source']],
};

function exampleFor(kind: string, path: string, examples: Examples): unknown {
  if (examples.has(path)) return examples.get(path);
  for (const [from, to] of EXAMPLE_ALIASES[kind] ?? [])
    if (path === from || path.startsWith(`${from}.`) || path.startsWith(`${from}[]`)) {
      const other = to + path.slice(from.length);
      if (examples.has(other)) return examples.get(other);
    }
  return undefined;
}

export interface RenderedPage {
  /** Section name -> its generated Markdown (before Prettier). */
  sections: Map<string, string>;
  /** Fields none of the page's examples gives a value. */
  missingExamples: string[];
}

function fieldTable(kind: string, rows: FieldRow[], examples: Examples, missing: string[]): string {
  const lines = [
    '| Field | Type | Default | Validation | Example | Description |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const row of rows) {
    const example = exampleFor(kind, row.path, examples);
    if (example === undefined) missing.push(row.path);
    const fields = [
      code(row.path),
      code(typeOf(row.schema)),
      row.schema.default === undefined ? '' : code(flow(row.schema.default)),
      validationOf(row).join('; '),
      example === undefined ? '' : code(shortExample(example)),
      row.schema.description ?? '',
    ];
    lines.push(`| ${fields.map(cell).join(' | ')} |`);
  }
  return lines.join('\n');
}

function columnsTable(columns: PrinterColumn[]): string {
  const lines = [
    '| Column | Shown | Type | JSONPath | Description |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const c of columns)
    lines.push(
      `| ${[
        code(c.name.toUpperCase()),
        (c.priority ?? 0) > 0 ? 'with `-o wide`' : 'always',
        code(c.type),
        code(c.jsonPath),
        c.description ??
          (c.jsonPath === '.metadata.creationTimestamp'
            ? 'Time since the object was created.'
            : ''),
      ]
        .map(cell)
        .join(' | ')} |`,
    );
  return lines.join('\n');
}

/** The generated sections of a kind's page; `markdown` is the page, for its examples. */
export function renderPage(crd: Crd, markdown: string): RenderedPage {
  const kind = crd.spec.names.kind;
  const version = crd.spec.versions[0]!;
  const root = version.schema.openAPIV3Schema;
  const examples = examplesIn(markdown, crd);
  const missing: string[] = [];
  const objectRules = (root['x-kubernetes-validations'] ?? []).map(
    (r) => `- rule: ${r.message ?? code(r.rule)}`,
  );
  const spec = [
    ...(objectRules.length
      ? [`Rules on the whole ${kind}, checked by the API server:`, '', ...objectRules, '']
      : []),
    fieldTable(
      kind,
      fieldRows(root.properties!.spec!, 'spec', root.required?.includes('spec')),
      examples,
      missing,
    ),
  ].join('\n');
  const status = fieldTable(kind, fieldRows(root.properties!.status!, 'status'), examples, missing);
  return {
    sections: new Map([
      ['columns', columnsTable(version.additionalPrinterColumns ?? [])],
      ['spec', spec],
      ['status', status],
    ]),
    missingExamples: missing,
  };
}
