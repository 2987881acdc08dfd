// One validator for everything shaped like our kinds: custom resources read from files, agent
// configuration files and model manifests. It compiles the very openAPIV3Schema the CRDs carry
// (api/src/generated/schemas.ts), so a file accepted here has the shape the API server accepts.
// The API server also evaluates the CRDs' CEL rules (x-kubernetes-validations); this validator
// does not, so cross-field rules are checked by the server (and by the controllers).
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

import { openApiSchemas } from './generated/schemas.js';
import type { OpenApiSchema } from './openapi.js';

export const apiVersion = 'edgewarden.io/v1alpha1';
export type KindName = keyof typeof openApiSchemas;
export const kindNames = Object.keys(openApiSchemas) as KindName[];

/** One problem with a document, located as Kubernetes does (`spec.tolerations[0].effect`). */
export interface SchemaIssue {
  field: string;
  message: string;
}

export class InvalidResourceError extends Error {
  readonly code = 'EW_INVALID_RESOURCE';
  constructor(
    readonly what: string,
    readonly issues: SchemaIssue[],
  ) {
    super(`${what} is invalid:\n${issues.map((i) => `  ${i.field}: ${i.message}`).join('\n')}`);
    this.name = 'InvalidResourceError';
  }
}

/**
 * Adapts a structural schema for ajv: objects that declare their properties reject unknown
 * fields, as the API server's strict field validation (kubectl's default) does; sets refuse
 * duplicates; everything a
 * CRD may say that JSON Schema does not know is accepted as an annotation.
 */
export function forAjv(schema: OpenApiSchema): OpenApiSchema {
  const out: OpenApiSchema = { ...schema };
  if (schema.properties) {
    out.properties = Object.fromEntries(
      Object.entries(schema.properties).map(([k, v]) => [k, forAjv(v)]),
    );
    if (
      schema.additionalProperties === undefined &&
      !schema['x-kubernetes-preserve-unknown-fields']
    )
      out.additionalProperties = false;
  }
  if (typeof schema.additionalProperties === 'object')
    out.additionalProperties = forAjv(schema.additionalProperties);
  if (schema.items) out.items = forAjv(schema.items);
  // A set, for the API server, refuses duplicate entries.
  if (schema['x-kubernetes-list-type'] === 'set')
    (out as { uniqueItems?: boolean }).uniqueItems = true;
  return out;
}

const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

export function makeAjv(): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    verbose: true, // errors carry the rejected value, to print it
    useDefaults: true,
    strict: true,
    strictTypes: false,
  });
  ajv.addVocabulary([
    'x-kubernetes-int-or-string',
    'x-kubernetes-preserve-unknown-fields',
    'x-kubernetes-validations',
    'x-kubernetes-list-type',
    'x-kubernetes-list-map-keys',
    'x-kubernetes-map-type',
  ]);
  ajv.addFormat('date-time', {
    type: 'string',
    validate: (s) => rfc3339.test(s) && !Number.isNaN(Date.parse(s)),
  });
  ajv.addFormat('int32', {
    type: 'number',
    validate: (n) => Number.isInteger(n) && Math.abs(n) <= 2 ** 31,
  });
  ajv.addFormat('int64', { type: 'number', validate: (n) => Number.isSafeInteger(n) });
  return ajv;
}

/** `/spec/tolerations/0/effect` becomes `spec.tolerations[0].effect`. */
function fieldOf(error: ErrorObject): string {
  const parts = error.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const extra = error.params as { missingProperty?: string; additionalProperty?: string };
  const leaf = extra.missingProperty ?? extra.additionalProperty;
  if (leaf !== undefined) parts.push(leaf);
  return parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

/** One ajv error as Kubernetes words it: the field as a path, and what is wrong with it. */
export function schemaIssueOf(error: ErrorObject): SchemaIssue {
  return { field: fieldOf(error), message: messageOf(error) };
}

function messageOf(error: ErrorObject): string {
  switch (error.keyword) {
    case 'required':
      return 'Required value';
    case 'additionalProperties':
      return 'unknown field';
    case 'enum':
      return `Unsupported value: ${JSON.stringify(error.data)}: supported values: ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return `Invalid value: ${JSON.stringify(error.data)}: ${error.message ?? error.keyword}`;
  }
}

export class ResourceValidator {
  private readonly validators = new Map<KindName, ValidateFunction>();
  private readonly ajv = makeAjv();

  /**
   * A kind's schema is compiled when a document of it is first checked: an agent checks only
   * AnalysisAgents, an export Job only its plan's kinds, and each compiled schema is code and
   * memory a Pi pays for as long as the process runs (issue 22; an export's start compiled
   * all three kinds, about 0.8 s on a loaded machine).
   */
  private validatorOf(kind: KindName): ValidateFunction {
    let validate = this.validators.get(kind);
    if (!validate) {
      validate = this.ajv.compile(forAjv(openApiSchemas[kind]));
      this.validators.set(kind, validate);
    }
    return validate;
  }

  /**
   * Checks a document against its kind's schema and fills in the schema's defaults in place,
   * as the API server would. Returns the problems found; an empty list means valid.
   */
  check(document: unknown): SchemaIssue[] {
    if (typeof document !== 'object' || document === null || Array.isArray(document))
      return [
        { field: '', message: 'expected an object with apiVersion, kind, metadata and spec' },
      ];
    const { apiVersion: version, kind } = document as { apiVersion?: unknown; kind?: unknown };
    if (version !== apiVersion)
      return [
        {
          field: 'apiVersion',
          message: `Unsupported value: ${JSON.stringify(version)}: supported values: "${apiVersion}"`,
        },
      ];
    const validate = kindNames.includes(kind as KindName)
      ? this.validatorOf(kind as KindName)
      : undefined;
    if (!validate)
      return [
        {
          field: 'kind',
          message: `Unsupported value: ${JSON.stringify(kind)}: supported values: ${kindNames.map((k) => `"${k}"`).join(', ')}`,
        },
      ];
    if (validate(document)) return [];
    // anyOf branches (int-or-string) report once per branch; keep one line per field and keyword.
    const seen = new Set<string>();
    return (validate.errors ?? [])
      .filter((e) => e.keyword !== 'anyOf')
      .map(schemaIssueOf)
      .filter((i) => !seen.has(`${i.field}\0${i.message}`) && seen.add(`${i.field}\0${i.message}`));
  }

  /** Like check, but throws InvalidResourceError naming `what` (a file, a key) when invalid. */
  assertValid<T>(document: unknown, what: string): T {
    const issues = this.check(document);
    if (issues.length > 0) throw new InvalidResourceError(what, issues);
    return document as T;
  }
}
