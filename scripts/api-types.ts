// Writes the TypeScript types of one kind from its (inlined) OpenAPI schema. Every object with
// properties becomes a named interface (`AnalysisAgentSpecSource`), its fields documented with
// the schema's descriptions and defaults, so hovering a field in an editor reads like
// `kubectl explain`.
import type { KindSource, Schema } from './api-schema.js';
import { group, version } from './api-schema.js';

const pascal = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

function docComment(schema: Schema, indent: string): string {
  const lines: string[] = [];
  if (schema.description) lines.push(...schema.description.split('\n'));
  if (schema.default !== undefined) lines.push(`@default ${JSON.stringify(schema.default)}`);
  if (lines.length === 0) return '';
  return `${indent}/**\n${lines.map((l) => `${indent} * ${l.replace(/\*\//g, '*\\/')}`.trimEnd()).join('\n')}\n${indent} */\n`;
}

class TypeWriter {
  readonly declarations: string[] = [];

  /** The TypeScript type of `schema`; objects are declared as `name` along the way. */
  typeOf(schema: Schema, name: string): string {
    if (schema['x-kubernetes-int-or-string']) return 'number | string';
    if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
    switch (schema.type) {
      case 'string':
        return 'string';
      case 'integer':
      case 'number':
        return 'number';
      case 'boolean':
        return 'boolean';
      case 'array': {
        const item = this.typeOf(schema.items ?? {}, `${name}Item`);
        return /[ |]/.test(item) ? `Array<${item}>` : `${item}[]`;
      }
      case 'object':
        if (schema.properties) return this.declareInterface(schema, name);
        if (typeof schema.additionalProperties === 'object')
          return `Record<string, ${this.typeOf(schema.additionalProperties, `${name}Value`)}>`;
        return 'Record<string, unknown>';
      default:
        return 'unknown';
    }
  }

  declareInterface(schema: Schema, name: string, fixed: Record<string, string> = {}): string {
    const required = new Set(schema.required ?? []);
    // Reserve the slot first so a parent is printed before the interfaces of its fields.
    const slot = this.declarations.push('') - 1;
    const fields = Object.entries(schema.properties ?? {}).map(([key, child]) => {
      const type = fixed[key] ?? this.typeOf(child, `${name}${pascal(key)}`);
      const optional = required.has(key) || key in fixed ? '' : '?';
      return `${docComment(child, '  ')}  ${key}${optional}: ${type};`;
    });
    this.declarations[slot] =
      `${docComment(schema, '')}export interface ${name} {\n${fields.join('\n')}\n}\n`;
    return name;
  }
}

export function typesFor(source: KindSource): string {
  const writer = new TypeWriter();
  writer.declareInterface(source.schema, source.kind, {
    apiVersion: `'${group}/${version}'`,
    kind: `'${source.kind}'`,
    metadata: 'ObjectMeta',
  });
  const plural = `${source.kind}List`;
  const identity =
    `/** Where the ${source.kind} kind is served: group, version and resource. */\n` +
    `export const ${source.kind}Resource = { group: '${group}', version: '${version}', plural: '${source.plural}', kind: '${source.kind}' } as const;\n\n` +
    `/** A list of ${source.kind} objects, as returned by the API server. */\n` +
    `export interface ${plural} { apiVersion: string; kind: '${plural}'; metadata?: { resourceVersion?: string; continue?: string }; items: ${source.kind}[] }\n`;
  return writer.declarations.join('\n') + '\n' + identity;
}
