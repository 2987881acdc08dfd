// The chart as the end-to-end suites install it: from the checkout, running the image the
// cluster has (EDGEWARDEN_E2E_IMAGE, repository:tag), and uninstalled the way a suite leaves a
// cluster: ExportJobs let go of first (no operator is left to remove their finalizers).
import path from 'node:path';

import { helmRun, kubectlRun, releaseExportJobs, repoRoot } from '../integration/kube.js';

export const CHART = path.join(repoRoot, 'charts/edgewarden');

/**
 * The image the cluster runs, as the chart's values name it: as k3s/README.md has an air-gapped
 * Pi name an image imported into its containerd (its full reference, and pullPolicy Never, so
 * that nothing ever tries a registry: a pod whose image is missing fails at once).
 */
export function imageValues(
  image = process.env.EDGEWARDEN_E2E_IMAGE ?? 'docker.io/library/edgewarden:ci',
): string[] {
  const colon = image.lastIndexOf(':');
  return [
    '--set',
    `image.repository=${image.slice(0, colon)}`,
    '--set',
    `image.tag=${image.slice(colon + 1)}`,
    '--set',
    'image.pullPolicy=Never',
  ];
}

/** helm install of the chart into `namespace`, with the cluster's image; throws helm's error. */
export async function installChart(
  release: string,
  namespace: string,
  args: string[],
): Promise<string> {
  const r = await helmRun(['install', release, CHART, '-n', namespace, ...imageValues(), ...args]);
  if (r.code !== 0) throw new Error(`helm install ${release} failed:\n${r.stderr}`);
  return r.stdout;
}

/** helm uninstall, then the namespaces deleted (not waited for). */
export async function uninstallChart(
  release: string,
  namespace: string,
  userNamespaces: string[],
): Promise<void> {
  for (const ns of [...userNamespaces, namespace]) await releaseExportJobs(ns);
  await helmRun(['uninstall', release, '-n', namespace, '--wait']);
  await kubectlRun(['delete', 'namespace', ...userNamespaces, namespace, '--wait=false']);
}
