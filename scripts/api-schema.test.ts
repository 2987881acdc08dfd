import { boundEnums, crdFor, inlineRefs, type Schema } from './api-schema.js';

const definitions: Record<string, Schema> = {
  name: { type: 'string', description: 'A name.', maxLength: 63 },
  ref: {
    type: 'object',
    description: 'A reference.',
    required: ['name'],
    properties: { name: { $ref: '#/definitions/name' } as Schema },
  },
};

test('inlineRefs copies a definition, nested references included', () => {
  expect(inlineRefs({ $ref: '#/definitions/ref' }, definitions)).toEqual({
    type: 'object',
    description: 'A reference.',
    required: ['name'],
    properties: { name: { type: 'string', description: 'A name.', maxLength: 63 } },
  });
});

test('keys beside a $ref override the definition', () => {
  const schema = inlineRefs(
    { $ref: '#/definitions/name', description: 'The Secret.', default: 'x' },
    definitions,
  );
  expect(schema).toEqual({
    type: 'string',
    description: 'The Secret.',
    maxLength: 63,
    default: 'x',
  });
  // The definition itself is left untouched for its other uses.
  expect(definitions.name?.description).toBe('A name.');
});

test('defaults and enums are copied as data, not walked as schemas', () => {
  const schema = inlineRefs(
    { type: 'object', default: { $ref: 'kept' }, enum: [{ $ref: 'kept' }] },
    definitions,
  );
  expect(schema).toEqual({ type: 'object', default: { $ref: 'kept' }, enum: [{ $ref: 'kept' }] });
});

test('an unknown reference is an error naming it', () => {
  expect(() => inlineRefs({ $ref: '#/definitions/nope' }, definitions)).toThrow(
    '#/definitions/nope',
  );
});

test('boundEnums bounds string enums by their longest value, and only those', () => {
  const schema = boundEnums({
    type: 'object',
    properties: {
      mode: { type: 'string', enum: ['a', 'verify-full'] },
      kept: { type: 'string', enum: ['a'], maxLength: 3 },
      list: { type: 'array', items: { type: 'string', enum: ['logs', 'anomalies'] } },
      free: { type: 'string' },
    },
  });
  expect(schema.properties?.mode?.maxLength).toBe(11);
  expect(schema.properties?.kept?.maxLength).toBe(3);
  expect(schema.properties?.list?.items?.maxLength).toBe(9);
  expect(schema.properties?.free?.maxLength).toBeUndefined();
});

test('crdFor makes a namespaced CRD with status, printer columns and our category', () => {
  const crd = crdFor({
    kind: 'Thing',
    plural: 'things',
    singular: 'thing',
    shortNames: ['th'],
    printerColumns: [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }],
    schema: { type: 'object', properties: { spec: { type: 'object' } } },
  });
  expect(crd.metadata.name).toBe('things.edgewarden.io');
  expect(crd.spec.names).toMatchObject({
    kind: 'Thing',
    listKind: 'ThingList',
    categories: ['edgewarden'],
  });
  expect(crd.spec.versions[0]?.subresources).toEqual({ status: {} });
  expect(Object.keys(crd.spec.versions[0]?.schema.openAPIV3Schema.properties ?? {})).toEqual([
    'apiVersion',
    'kind',
    'metadata',
    'spec',
  ]);
});
