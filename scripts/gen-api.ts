// Generates everything that derives from the API schema source in api/schema/:
//   crds/<plural>.yaml                  the CustomResourceDefinitions users install
//   charts/edgewarden/templates/crds/   the same, as chart templates (crds.enabled, kept on uninstall)
//   api/src/generated/types.ts          TypeScript types of the three kinds
//   api/src/generated/schemas.ts        the same OpenAPI schemas, for the ajv validator
// With --check it writes nothing and exits 1 naming every file that differs from what the
// source would generate, so `npm test` fails when someone edits one side only.
import { readFile, writeFile, readdir, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { format, resolveConfig } from 'prettier';
import { parse, stringify } from 'yaml';

import { crdFor, inlineRefs, type KindSource, type Schema } from './api-schema.js';
import { typesFor } from './api-types.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

async function loadYaml(file: string): Promise<unknown> {
  return parse(await readFile(file, 'utf8'));
}

async function generate(root: string): Promise<Map<string, string>> {
  const schemaDir = path.join(root, 'api/schema');
  const { definitions } = (await loadYaml(path.join(schemaDir, 'definitions.yaml'))) as {
    definitions: Record<string, Schema>;
  };
  const kindFiles = (await readdir(schemaDir))
    .filter((f) => f.endsWith('.yaml') && f !== 'definitions.yaml')
    .sort();
  const outputs = new Map<string, string>();
  const types: string[] = [];
  const schemas: Record<string, Schema> = {};
  for (const file of kindFiles) {
    const source = (await loadYaml(path.join(schemaDir, file))) as KindSource;
    const resolved: KindSource = { ...source, schema: inlineRefs(source.schema, definitions) };
    const crd = crdFor(resolved);
    const header = `# Generated from api/schema/${file} by scripts/gen-api.ts. Do not edit: edit the source and run npm run generate:api.\n`;
    outputs.set(
      `crds/${source.plural}.yaml`,
      header + stringify(crd, { lineWidth: 0, aliasDuplicateObjects: false }),
    );
    // The chart's copy: the same CRD, rendered only with crds.enabled and kept on uninstall.
    const kept = {
      ...crd,
      metadata: { ...crd.metadata, annotations: { 'helm.sh/resource-policy': 'keep' } },
    };
    outputs.set(
      `charts/edgewarden/templates/crds/${source.plural}.yaml`,
      `{{- if .Values.crds.enabled }}\n${header}${stringify(kept, { lineWidth: 0, aliasDuplicateObjects: false })}{{- end }}\n`,
    );
    const openAPIV3Schema = crd.spec.versions[0]!.schema.openAPIV3Schema;
    types.push(typesFor({ ...resolved, schema: openAPIV3Schema }));
    schemas[source.kind] = openAPIV3Schema;
  }
  const banner =
    '// Generated from api/schema/ by scripts/gen-api.ts. Do not edit: edit the source and run npm run generate:api.\n';
  outputs.set(
    'api/src/generated/types.ts',
    banner + "import type { ObjectMeta } from '../objectMeta.js';\n\n" + types.join('\n'),
  );
  outputs.set(
    'api/src/generated/schemas.ts',
    banner +
      "import type { OpenApiSchema } from '../openapi.js';\n\n" +
      '/** The openAPIV3Schema of each kind, exactly as in its CRD. */\n' +
      `export const openApiSchemas: Record<'${Object.keys(schemas).join("' | '")}', OpenApiSchema> = ${JSON.stringify(schemas)};\n`,
  );
  // Format like the rest of the tree so `prettier --check .` and this check agree (Helm
  // templates are not YAML until rendered: prettier leaves them alone).
  for (const [file, text] of outputs) {
    if (file.startsWith('charts/')) continue;
    const filepath = path.join(root, file);
    outputs.set(file, await format(text, { ...(await resolveConfig(filepath)), filepath }));
  }
  return outputs;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { check: { type: 'boolean' }, root: { type: 'string' } },
  });
  const check = values.check ?? false;
  const root = path.resolve(values.root ?? repoRoot);
  const outputs = await generate(root);
  const stale: string[] = [];
  for (const [file, text] of outputs) {
    const target = path.join(root, file);
    const current = await readFile(target, 'utf8').catch(() => undefined);
    if (current === text) continue;
    stale.push(file);
    if (!check) {
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, text);
    }
  }
  if (check && stale.length > 0) {
    console.error(
      `API drift: these files differ from what api/schema/ generates:\n  ${stale.join('\n  ')}\n` +
        'Edit api/schema/ (not the generated files) and run: npm run generate:api',
    );
    process.exit(1);
  }
  console.log(
    check
      ? `API in sync: ${outputs.size} generated files match api/schema/`
      : `generated ${stale.length} changed of ${outputs.size} files`,
  );
}

await main();
