// Turns one kind's schema source (api/schema/<kind>.yaml) into its CustomResourceDefinition.
import type { OpenApiSchema } from '../api/src/openapi.js';

export const group = 'edgewarden.io';
export const version = 'v1alpha1';
export const category = 'edgewarden';

/** A schema as written in api/schema/, where `$ref` may stand for a shared definition. */
export type Schema = OpenApiSchema & { $ref?: string };

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  description?: string;
  priority?: number;
}

export interface KindSource {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath: string };
  printerColumns: PrinterColumn[];
  schema: Schema;
}

/**
 * Replaces every `$ref: '#/definitions/NAME'` with a copy of that definition (itself inlined),
 * then lays the keys written beside the `$ref` over it: a use may give its own description,
 * default, required list or validations. CRD schemas must be structural, so no `$ref` survives.
 */
export function inlineRefs(node: Schema, definitions: Record<string, Schema>): Schema {
  if (Array.isArray(node)) return node.map((n: Schema) => inlineRefs(n, definitions)) as never;
  if (node === null || typeof node !== 'object') return node;
  const { $ref, ...rest } = node;
  const own: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rest)) {
    // Defaults and enums are data, not schemas: copy them as they are.
    own[key] =
      key === 'default' || key === 'enum' ? value : inlineRefs(value as Schema, definitions);
  }
  if ($ref === undefined) return own;
  const name = $ref.replace(/^#\/definitions\//, '');
  const target = definitions[name];
  if (target === undefined) throw new Error(`unknown schema reference ${$ref}`);
  return { ...inlineRefs(target, definitions), ...own };
}

/**
 * Gives every string enum a maxLength equal to its longest value. The enum already restricts
 * the value; the bound lets the API server's CEL cost estimator see that such strings are
 * short, so rules comparing them fit the cost budget.
 */
export function boundEnums(node: Schema): Schema {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    out[key] =
      key === 'default' || key === 'enum' || key === 'x-kubernetes-validations'
        ? value
        : Array.isArray(value)
          ? value.map((v: Schema) => boundEnums(v))
          : boundEnums(value as Schema);
  }
  const bounded = out as Schema;
  if (bounded.type === 'string' && bounded.enum && bounded.maxLength === undefined)
    bounded.maxLength = Math.max(...bounded.enum.map((v) => String(v).length));
  return bounded;
}

const typeMeta: Record<string, Schema> = {
  apiVersion: {
    type: 'string',
    description: `APIVersion defines the versioned schema of this representation of an object: ${group}/${version}.`,
  },
  kind: {
    type: 'string',
    description: 'Kind is a string value representing the REST resource this object represents.',
  },
  // The API server forbids anything but `type` here: metadata's schema is built in.
  metadata: { type: 'object' },
};

export function crdFor(source: KindSource) {
  const schema: Schema = boundEnums({
    ...source.schema,
    properties: { ...typeMeta, ...source.schema.properties },
  });
  const subresources: Record<string, unknown> = { status: {} };
  if (source.scale) subresources.scale = source.scale;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${source.plural}.${group}`,
      labels: {
        'app.kubernetes.io/name': 'edgewarden',
        'app.kubernetes.io/part-of': 'edgewarden',
      },
    },
    spec: {
      group,
      names: {
        kind: source.kind,
        listKind: `${source.kind}List`,
        plural: source.plural,
        singular: source.singular,
        shortNames: source.shortNames,
        categories: [category],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          subresources,
          additionalPrinterColumns: source.printerColumns,
          schema: { openAPIV3Schema: schema },
        },
      ],
    },
  };
}
