// `edgewarden validate`: checks edgewarden resources in YAML or JSON files against the same
// schemas the CRDs carry, offline, before they reach a cluster (or an agent's --config).
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';

import { CelValidator, TRANSITION } from '../../api/src/cel.js';
import { ResourceValidator, type KindName, type SchemaIssue } from '../../api/src/validate.js';
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

/**
 * The schema first (it fills in the defaults, as the API server does), then, on a document of
 * the right shape, the CEL rules. Rules it cannot evaluate are printed, never passed silently.
 */
function check(
  schema: ResourceValidator,
  cel: CelValidator,
  doc: unknown,
  name: string,
): SchemaIssue[] {
  const issues: SchemaIssue[] = schema.check(doc);
  if (issues.length > 0) return issues;
  const outcome = cel.check((doc as { kind: KindName }).kind, doc);
  // Transition rules are skipped by design (the help says so): only the others are printed.
  for (const { field, rule, why } of outcome.notChecked.filter((n) => n.why !== TRANSITION))
    console.log(`${name}: not checked by validate: ${field || '(document)'}: ${rule} (${why})`);
  return outcome.issues;
}

async function run(_values: unknown, positionals: string[], fail: Fail): Promise<number> {
  if (positionals.length === 0) return fail('give a FILE, or - for standard input');
  const validator = new ResourceValidator();
  const cel = new CelValidator();
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
      const issues = check(validator, cel, value, name);
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
an ExportJob, a Secret) are listed as skipped. The CRDs' CEL rules (x-kubernetes-validations:
cross-field rules, ranges of durations, paths without "..") are evaluated too, once the
document has the right shape. Transition rules (ExportJob's immutable spec) compare with the
stored object, so only the API server checks them, on update; any other rule validate cannot
evaluate is printed as "not checked by validate", never passed silently. Exits 0 when every document is valid or skipped, 1 when any is not, 2 on a usage
or read error.`,
  options: {},
  positionals: true,
  run,
});
