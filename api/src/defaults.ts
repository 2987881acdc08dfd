// The defaults the CRDs declare, filled in by the same schema the API server applies
// (api/src/generated/schemas.ts through ajv's useDefaults), so that code reading a spec never
// writes a default a second time as a literal. Programs handed a spec that did not pass the
// API server (an agent started from a file, a test) get the same values as one that did.
import type { ValidateFunction } from 'ajv';

import { openApiSchemas } from './generated/schemas.js';
import { forAjv, makeAjv, type KindName } from './validate.js';

let defaulters: Map<KindName, ValidateFunction> | undefined;

/** One compiled schema per kind, used only for its defaults (validity is validate.ts's job). */
function defaulter(kind: KindName): ValidateFunction {
  if (!defaulters) {
    const ajv = makeAjv();
    defaulters = new Map(
      Object.entries(openApiSchemas).map(([k, schema]) => [
        k as KindName,
        ajv.compile(forAjv(schema)),
      ]),
    );
  }
  return defaulters.get(kind)!;
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
  defaulter(kind)(isWholeResource(kind, copy) ? copy : { spec: copy });
  return copy;
}
