// This machine's side of the test node's network: the node's own address (on a bridge, as
// this kernel has no dummy links), forwarding for the pods' network past Docker's FORWARD
// DROP policy, and the removal of everything a node leaves in the kernel (bridges, network
// namespaces, iptables chains), which runs before a node starts too: a run that was killed
// leaves its rules behind, and the next must not inherit them. Needs root.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { NODE } from './nodeConfig.js';

const exec = promisify(execFile);
const COMMENT = 'edgewarden-test-node';

const ip = async (...args: string[]): Promise<string> => (await exec('ip', args)).stdout;
const iptables = async (...args: string[]): Promise<string> =>
  (await exec('iptables', ['-w', ...args])).stdout;

/** The node's address on its bridge, and forwarding for the pod network. */
export async function createNodeNetwork(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the test node needs root (a real kubelet)');
  await ip('link', 'add', NODE.bridge, 'type', 'bridge');
  await ip('addr', 'add', `${NODE.address}/24`, 'dev', NODE.bridge);
  await ip('link', 'set', NODE.bridge, 'up');
  // Docker sets the FORWARD policy to DROP; with bridge netfilter on, that drops pod-to-pod
  // traffic on the CNI bridge too (seen as model offers timing out). Accept the pods' network
  // in both directions, ahead of Docker's chains.
  for (const direction of ['-s', '-d'])
    await iptables(
      '-I',
      'FORWARD',
      '1',
      direction,
      NODE.podCidr,
      '-m',
      'comment',
      '--comment',
      COMMENT,
      '-j',
      'ACCEPT',
    );
}

/**
 * Everything a node leaves in the kernel: its FORWARD rules, the CNI plugins' NAT chains of
 * its network, its bridges, and network namespaces that no process holds any more.
 * kube-proxy's own chains are removed by `kube-proxy --cleanup` (realNode.ts); the kubelet's
 * here.
 */
export async function removeNodeNetwork(): Promise<void> {
  const saved = (await exec('iptables-save')).stdout;
  let table = '';
  const deletions: string[][] = [];
  const chains = new Set<string>();
  for (const line of saved.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1);
    if (!line.startsWith('-A ')) continue;
    const ours =
      line.includes(`--comment ${COMMENT}`) ||
      line.includes(`name: \\"${NODE.cniNetwork}\\"`) ||
      line.includes(`"name: \\"${NODE.cniNetwork}\\"`);
    if (!ours) continue;
    deletions.push(['-t', table, '-D', ...splitRule(line.slice(3))]);
    const target = / -j (CNI-[\w-]+)/.exec(line)?.[1];
    if (target) chains.add(`${table} ${target}`);
  }
  for (const rule of deletions) await iptables(...rule).catch(() => undefined);
  for (const entry of chains) {
    const [table, chain] = entry.split(' ') as [string, string];
    await iptables('-t', table, '-F', chain).catch(() => undefined);
    await iptables('-t', table, '-X', chain).catch(() => undefined);
  }
  // The kubelet's own chains (it makes them at start, and leaves them): its firewall rule
  // against martian traffic to 127.0.0.0/8, and the canary chains kube-proxy watches.
  for (const table of ['filter', 'nat', 'mangle']) {
    for (const hook of ['INPUT', 'OUTPUT'])
      await iptables('-t', table, '-D', hook, '-j', 'KUBE-FIREWALL').catch(() => undefined);
    for (const chain of ['KUBE-FIREWALL', 'KUBE-KUBELET-CANARY', 'KUBE-IPTABLES-HINT']) {
      await iptables('-t', table, '-F', chain).catch(() => undefined);
      await iptables('-t', table, '-X', chain).catch(() => undefined);
    }
  }
  for (const link of [NODE.cniBridge, NODE.bridge])
    await ip('link', 'delete', link).catch(() => undefined);
  const namespaces = (await ip('netns', 'list').catch(() => ''))
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith('cni-'));
  for (const n of namespaces) {
    const pids = (await ip('netns', 'pids', n).catch(() => 'unknown')).trim();
    if (pids === '') await ip('netns', 'delete', n).catch(() => undefined);
  }
}

/** An iptables-save rule's words, its quoted comments kept whole (without their quotes). */
function splitRule(rule: string): string[] {
  const words: string[] = [];
  const pattern = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (const m of rule.matchAll(pattern))
    words.push(m[1] !== undefined ? m[1].replace(/\\"/g, '"') : m[2]!);
  return words;
}
