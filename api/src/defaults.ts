// The defaults the CRDs declare, filled in from the same schema the API server applies
// (api/src/generated/schemas.ts), so that code reading a spec never writes a default a second
// time as a literal. Programs handed a spec that did not pass the API server (an agent started
// from a file, a test) get the same values as one that did.
//
// The walk is the API server's own structural defaulting (k8s.io/apiextensions-apiserver
// pkg/apiserver/schema/defaulting, `Default`): an absent property with a `default` gets a copy
// of it, then every present object, map value and array item is walked in turn, so a defaulted
// `{}` gets its own fields' defaults. Not ajv's useDefaults: compiling the three kinds' schemas
// for it cost the operator 10 MB of RSS (2 MB of heap) for what these few lines do;
// defaults.test.ts checks the two agree on every kind's example.
import { openApiSchemas } from './generated/schemas.js';
import type { OpenApiSchema } from './openapi.js';
import type { KindName } from './validate.js';

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Fills `value`'s absent fields in place with `schema`'s defaults, all the way down. */
function fill(value: unknown, schema: OpenApiSchema): void {
  if (Array.isArray(value)) {
    if (schema.items) for (const item of value) fill(item, schema.items);
    return;
  }
  if (!isObject(value)) return;
  for (const [key, property] of Object.entries(schema.properties ?? {})) {
    if (value[key] === undefined && property.default !== undefined)
      value[key] = structuredClone(property.default);
    if (value[key] !== undefined) fill(value[key], property);
  }
  const values = schema.additionalProperties;
  if (typeof values === 'object')
    for (const [key, v] of Object.entries(value)) if (!schema.properties?.[key]) fill(v, values);
}

function isWholeResource(kind: KindName, value: object): boolean {
  return 'spec' in value && (value as { kind?: unknown }).kind === kind;
}

/**
 * A copy of `value`, a resource of `kind` (with `kind` and `spec`) or only its spec, with every
 * default its schema declares filled in where the field is absent. Defaults nest as the API
 * server's do: an absent object with a declared default (`{}`) is created, then its own fields'
 * defaults fill it; an absent object without one stays absent. An invalid value is not refused
 * here: its valid parts get their defaults. The input is not changed.
 */
export function withSchemaDefaults<T extends object>(kind: KindName, value: T): T {
  const copy = structuredClone(value);
  fill(isWholeResource(kind, copy) ? copy : { spec: copy }, openApiSchemas[kind]);
  return copy;
}
