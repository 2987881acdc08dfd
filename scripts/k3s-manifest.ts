// The k3s auto-deploy manifest, k3s/edgewarden-helmchart.yaml: a restricted Namespace and a
// HelmChart (k3s's Helm controller, helm.cattle.io/v1) whose valuesContent is
// k3s/values-pi5.yaml byte for byte. The chart comes from the k3s servers' own static files
// (https://%{KUBERNETES_API}%/static/charts/edgewarden-<version>.tgz), so nothing is fetched
// from outside the cluster. Never edit the output by hand.
//
//   npm run k3s:manifest                        write k3s/edgewarden-helmchart.yaml again
//   npm run k3s:manifest -- --check             exit 1 if it differs from what would be written
//   npm run k3s:manifest -- --package DIR       helm package the chart into DIR (for static/charts)
//   npm run k3s:manifest -- --embed-chart FILE  one self-contained file: the packaged chart
//                                               inside the HelmChart (spec.chartContent, base64)
//
// Helm is $HELM, else `helm` on the PATH, else the control-plane tool cache's.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { format, resolveConfig } from 'prettier';
import { parse } from 'yaml';

import { locateTools } from '../test/control-plane/controlPlane.js';

const run = promisify(execFile);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const K3S_MANIFEST = 'k3s/edgewarden-helmchart.yaml';
export const PI5_VALUES = 'k3s/values-pi5.yaml';
export const CHART = 'charts/edgewarden';
/** The release's namespace; the HelmChart itself lives in kube-system, where k3s watches. */
export const TARGET_NAMESPACE = 'edgewarden-system';
/** The HelmChart's name: the Helm release's name, and the helm-install-<name> Job's. */
export const RELEASE = 'edgewarden';

/** Where k3s serves a file placed in /var/lib/rancher/k3s/server/static/charts/ on a server. */
export const staticChartUrl = (version: string): string =>
  `https://%{KUBERNETES_API}%/static/charts/${RELEASE}-${version}.tgz`;

export async function chartVersion(root = repoRoot): Promise<string> {
  const chart = parse(await readFile(path.join(root, CHART, 'Chart.yaml'), 'utf8')) as {
    version: string;
  };
  return chart.version;
}

/** A YAML literal block (`|`) holding `text` exactly; `text` must end with one newline. */
function literalBlock(text: string, indent: string): string {
  if (!text.endsWith('\n') || text.endsWith('\n\n'))
    throw new Error(`${PI5_VALUES} must end with exactly one newline`);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => (line === '' ? '' : indent + line))
    .join('\n');
}

export interface RenderOptions {
  /** The packaged chart (.tgz) as base64: spec.chartContent instead of the static URL. */
  chartContent?: string;
}

export async function renderK3sManifest(
  root = repoRoot,
  options: RenderOptions = {},
): Promise<string> {
  const version = await chartVersion(root);
  const values = await readFile(path.join(root, PI5_VALUES), 'utf8');
  const source = options.chartContent
    ? `  # charts/${RELEASE} ${version}, packaged (helm package) and base64-encoded.\n  chartContent: ${options.chartContent}`
    : `  # Put the packaged chart (npm run k3s:manifest -- --package DIR, or helm package
  # charts/${RELEASE}) in /var/lib/rancher/k3s/server/static/charts/ on every server node.
  chart: ${staticChartUrl(version)}`;
  const text = `# edgewarden on k3s: copy this file to /var/lib/rancher/k3s/server/manifests/edgewarden.yaml
# on every k3s server node; k3s applies it and its Helm controller installs the chart
# (k3s/README.md). Generated from k3s/values-pi5.yaml by scripts/k3s-manifest.ts
# (npm run k3s:manifest). Do not edit: change values-pi5.yaml and generate again.
apiVersion: v1
kind: Namespace
metadata:
  name: ${TARGET_NAMESPACE}
  labels:
    # Every pod the chart makes meets the restricted Pod Security Standard.
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/audit: restricted
    pod-security.kubernetes.io/warn: restricted
---
apiVersion: helm.cattle.io/v1
kind: HelmChart
metadata:
  name: ${RELEASE}
  namespace: kube-system
spec:
${source}
  targetNamespace: ${TARGET_NAMESPACE}
  createNamespace: true
  # k3s/values-pi5.yaml, as it is.
  valuesContent: |
${literalBlock(values, '    ')}
`;
  if (options.chartContent) return text; // written for a server, not kept in the repository
  const file = path.join(root, K3S_MANIFEST);
  return format(text, { ...(await resolveConfig(file)), filepath: file });
}

/** The helm binary: $HELM, `helm` on the PATH, or the test tool cache's. */
export async function findHelm(): Promise<string> {
  if (process.env.HELM) return process.env.HELM;
  const onPath = await run('helm', ['version', '--short']).then(
    () => true,
    () => false,
  );
  return onPath ? 'helm' : (await locateTools(['helm'])).helm;
}

/** `helm package` of the chart into `dir`; returns the .tgz's path. */
export async function packageChart(helm: string, dir: string, root = repoRoot): Promise<string> {
  const { stdout } = await run(helm, ['package', path.join(root, CHART), '-d', dir]);
  const saved = /saved it to: (.+\.tgz)\s*$/m.exec(stdout);
  if (!saved) throw new Error(`helm package: unexpected output: ${stdout}`);
  return saved[1]!;
}

/** The self-contained manifest: the chart packaged now, inside spec.chartContent. */
export async function renderEmbeddedManifest(helm: string, root = repoRoot): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-chart-'));
  try {
    const tgz = await packageChart(helm, dir, root);
    const chartContent = (await readFile(tgz)).toString('base64');
    return await renderK3sManifest(root, { chartContent });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      check: { type: 'boolean' },
      package: { type: 'string' },
      'embed-chart': { type: 'string' },
    },
  });
  // npm runs scripts in the repository; paths on the command line are the caller's.
  const callerPath = (p: string): string => path.resolve(process.env.INIT_CWD ?? process.cwd(), p);
  if (values.package) {
    console.log(`packaged ${await packageChart(await findHelm(), callerPath(values.package))}`);
    return;
  }
  if (values['embed-chart']) {
    const out = callerPath(values['embed-chart']);
    await writeFile(out, await renderEmbeddedManifest(await findHelm()));
    console.log(`wrote ${out} (chart inside: copy it to the servers' manifests folder)`);
    return;
  }
  const text = await renderK3sManifest();
  const file = path.join(repoRoot, K3S_MANIFEST);
  const current = await readFile(file, 'utf8').catch(() => undefined);
  if (current === text) return console.log(`${K3S_MANIFEST} matches ${PI5_VALUES}`);
  if (values.check) {
    console.error(`${K3S_MANIFEST} differs from ${PI5_VALUES}: run npm run k3s:manifest`);
    process.exit(1);
  }
  await writeFile(file, text);
  console.log(`wrote ${K3S_MANIFEST}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1]))
  await main();
