// `edgewarden validate`: checks edgewarden resources in YAML or JSON files against the same
// schemas the CRDs carry, offline, before they reach a cluster (or an agent's --config).
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';

import { ResourceValidator } from '../../api/src/validate.js';
import { defineCommand, type Fail } from './options.js';

/** Kubernetes' own kinds and other groups': not ours to check, so they pass through. */
const otherGroup = (apiVersion: unknown): boolean =>
  typeof apiVersion === 'string' && apiVersion !== '' && !apiVersion.startsWith('edgewarden.io/');

async function readInput(file: string): Promise<string> {
  if (file !== '-') return readFile(file, 'utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function run(_values: unknown, positionals: string[], fail: Fail): Promise<number> {
  if (positionals.length === 0) return fail('give a FILE, or - for standard input');
  const validator = new ResourceValidator();
  let invalid = 0;
  for (const file of positionals) {
    let text: string;
    try {
      text = await readInput(file);
    } catch (error) {
      console.error(`${file}: cannot read: ${(error as Error).message}`);
      return 2;
    }
    const documents = parseAllDocuments(text);
    for (const [index, doc] of (Array.isArray(documents) ? documents : [documents]).entries()) {
      const where = `${file}#${index + 1}`;
      if (doc.errors.length > 0) {
        invalid++;
        console.error(`${where}: not YAML: ${doc.errors[0]!.message}`);
        continue;
      }
      const value: unknown = doc.toJS();
      if (value === null || value === undefined) continue; // an empty document between ---
      const meta = value as { apiVersion?: unknown; kind?: string; metadata?: { name?: string } };
      const name = `${where} ${meta.kind ?? '?'}/${meta.metadata?.name ?? '?'}`;
      if (otherGroup(meta.apiVersion)) {
        console.log(`${name}: skipped (${String(meta.apiVersion)}, not edgewarden.io)`);
        continue;
      }
      const issues = validator.check(value);
      if (issues.length === 0) {
        console.log(`${name}: valid`);
        continue;
      }
      invalid++;
      console.error(`${name}: invalid`);
      for (const issue of issues)
        console.error(`  ${issue.field || '(document)'}: ${issue.message}`);
    }
  }
  return invalid > 0 ? 1 : 0;
}

export const validateCommand = defineCommand({
  name: 'validate',
  synopsis: ['edgewarden validate FILE... (or - for standard input)'],
  about: `Checks each document (YAML, several per file separated by ---, or JSON) of kind AnalysisAgent,
ModelDeployment or ExportJob against the edgewarden.io/v1alpha1 schemas, and prints every
problem with the field it is in. Documents of other API groups (a PersistentVolumeClaim beside
an ExportJob, a Secret) are listed as skipped. Cross-field rules (CEL) are checked by the API
server only. Exits 0 when every document is valid or skipped, 1 when any is not, 2 on a usage
or read error.`,
  options: {},
  positionals: true,
  run,
});
