// Renders the plain-YAML install, manifests/edgewarden.yaml, from the Helm chart with its
// default values: a restricted Namespace, then exactly what `helm install` would create.
// Never edit the output by hand; with --check it writes nothing and exits 1 when the file
// differs from what the chart renders, so `npm test` fails when the chart moves alone.
// Helm is the control-plane tool cache's (test/control-plane/build-binaries.sh builds it).
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { format, resolveConfig } from 'prettier';

import { locateTools } from '../test/control-plane/controlPlane.js';

const run = promisify(execFile);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MANIFEST = 'manifests/edgewarden.yaml';
export const NAMESPACE = 'edgewarden-system';
/** The Kubernetes version the chart is rendered for (the one the tests run). */
const KUBE_VERSION = '1.34.4';

export async function renderManifests(root = repoRoot): Promise<string> {
  const { helm } = await locateTools(['helm']);
  const { stdout } = await run(
    helm,
    [
      'template',
      'edgewarden',
      path.join(root, 'charts/edgewarden'),
      '--namespace',
      NAMESPACE,
      '--kube-version',
      KUBE_VERSION,
    ],
    { maxBuffer: 64 << 20 },
  );
  const namespace = `apiVersion: v1
kind: Namespace
metadata:
  name: ${NAMESPACE}
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/audit: restricted
    pod-security.kubernetes.io/warn: restricted
`;
  const text = `# edgewarden, installed with plain YAML: kubectl apply --server-side -f manifests/edgewarden.yaml
# Rendered from charts/edgewarden with its default values by scripts/render-manifests.ts
# (npm run generate:manifests). Do not edit: change the chart and render again.
${namespace}${stdout.startsWith('---') ? '' : '---\n'}${stdout}`;
  const file = path.join(root, MANIFEST);
  return format(text, { ...(await resolveConfig(file)), filepath: file });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { check: { type: 'boolean' } } });
  const text = await renderManifests();
  const file = path.join(repoRoot, MANIFEST);
  const current = await readFile(file, 'utf8').catch(() => undefined);
  if (current === text) return console.log(`${MANIFEST} matches the chart`);
  if (values.check) {
    console.error(
      `${MANIFEST} differs from what charts/edgewarden renders: run npm run generate:manifests`,
    );
    process.exit(1);
  }
  await writeFile(file, text);
  console.log(`rendered ${MANIFEST}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1]))
  await main();
