// The CRDs' CEL rules (x-kubernetes-validations), evaluated offline as the API server does, so
// `edgewarden validate` refuses what the server refuses: a path with "..", an interval of 1ms,
// a cache with both url and secretRef, several model sources (issue 20, Lows). The library is
// @marcbachmann/cel-js (no dependencies); Kubernetes' own quantity() is added here. A rule
// this cannot evaluate (a transition rule, which needs the stored object, or a function the
// library lacks) is returned as not checked, never passed silently.
import { Environment } from '@marcbachmann/cel-js';

import { openApiSchemas } from './generated/schemas.js';
import type { OpenApiSchema } from './openapi.js';
import type { KindName, SchemaIssue } from './validate.js';

type Rule = NonNullable<OpenApiSchema['x-kubernetes-validations']>[number];

/** What the CEL rules found: the broken ones, and the ones left to the API server, with why. */
export interface CelOutcome {
  issues: SchemaIssue[];
  notChecked: { field: string; rule: string; why: string }[];
}

/** A Kubernetes quantity's value ("384Mi", "500m", "1e3", 2), for compareTo only. */
class Quantity {
  constructor(readonly value: number) {}
}

const QUANTITY_SUFFIX: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

export function quantityValue(text: string): number {
  const m =
    /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:([eE][+-]?\d+)|(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei))?$/.exec(
      text.trim(),
    );
  if (!m) throw new Error(`quantities must match the regular expression (got ${text})`);
  const number = Number(m[1]);
  return m[2] ? number * 10 ** Number(m[2].slice(1)) : number * QUANTITY_SUFFIX[m[3] ?? '']!;
}

function celEnvironment(): Environment {
  return new Environment({ unlistedVariablesAreDyn: true, homogeneousAggregateLiterals: false })
    .registerType('Quantity', Quantity)
    .registerFunction('quantity(string): Quantity', (s: string) => new Quantity(quantityValue(s)))
    .registerFunction('Quantity.compareTo(Quantity): int', (a: Quantity, b: Quantity) =>
      BigInt(Math.sign(a.value - b.value)),
    );
}

/** Why a transition rule (one reading oldSelf, as `self == oldSelf`) is never evaluated here. */
export const TRANSITION =
  'a transition rule: it compares with the stored object, so only the API server checks it, on update';

const child = (path: string, key: string): string => (path ? `${path}.${key}` : key);

export class CelValidator {
  private readonly env = celEnvironment();
  private readonly compiled = new Map<string, (context: object) => unknown>();

  /** Evaluates every rule of the document's kind on the values present, as the server does. */
  check(kind: KindName, document: unknown): CelOutcome {
    return this.checkAgainst(openApiSchemas[kind], document);
  }

  /** The same, against any structural schema. */
  checkAgainst(schema: OpenApiSchema, document: unknown): CelOutcome {
    const outcome: CelOutcome = { issues: [], notChecked: [] };
    this.visit(schema, document, '', outcome);
    return outcome;
  }

  private visit(schema: OpenApiSchema, value: unknown, path: string, out: CelOutcome): void {
    if (value === undefined || value === null) return;
    for (const rule of schema['x-kubernetes-validations'] ?? [])
      this.evaluate(rule, value, path, out);
    if (typeof value !== 'object') return;
    if (Array.isArray(value)) {
      if (schema.items)
        value.forEach((item, i) => this.visit(schema.items!, item, `${path}[${i}]`, out));
      return;
    }
    const entries = Object.entries(value as Record<string, unknown>);
    for (const [key, v] of entries) {
      const property = schema.properties?.[key];
      if (property) this.visit(property, v, child(path, key), out);
      else if (typeof schema.additionalProperties === 'object')
        this.visit(schema.additionalProperties, v, `${path}[${key}]`, out);
    }
  }

  private evaluate(rule: Rule, self: unknown, path: string, out: CelOutcome): void {
    const field = (path + (rule.fieldPath ?? '')).replace(/^\./, '');
    if (/\boldSelf\b/.test(rule.rule)) {
      out.notChecked.push({ field: path, rule: rule.rule, why: TRANSITION });
      return;
    }
    let result: unknown;
    try {
      result = this.compile(rule.rule)({ self });
    } catch (error) {
      out.notChecked.push({
        field: path,
        rule: rule.rule,
        why: (error as Error).message.split('\n')[0]!,
      });
      return;
    }
    if (result !== true)
      out.issues.push({ field, message: `Invalid value: ${rule.message ?? rule.rule}` });
  }

  private compile(rule: string): (context: object) => unknown {
    let fn = this.compiled.get(rule);
    if (!fn) {
      const parsed = this.env.parse(rule);
      fn = (context) => parsed(context);
      this.compiled.set(rule, fn);
    }
    return fn;
  }
}
