// The local node's pod network, as a CNI bridge plugin makes one: a Linux bridge on this
// machine holding the node's address (the gateway), and for each pod a network namespace of
// its own joined to the bridge by a veth pair, with one address from the subnet. So every pod
// has its own IP and its own ports (six agents can all listen on 8080), pods reach each other
// and this machine's gateway address directly on the bridge, and this machine reaches them.
// Nothing is routed beyond the bridge (no forwarding, no NAT): what the pods talk to outside
// the API server listens on the gateway address. Needs root, which CI has.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/**
 * One pod network: a bridge, its /16 and the gateway, in a private range nothing else on the
 * machine uses. Several control planes on one machine (two test runs) each take their own.
 */
export interface PodNetworkPlan {
  index: number;
  bridge: string;
  /** The first two octets of the /16: pods get PREFIX.x.y. */
  prefix: string;
  gateway: string;
  bits: number;
  /** Network namespaces of this network: their names start with this. */
  netnsPrefix: string;
}

export const podNetworkPlan = (index: number): PodNetworkPlan => ({
  index,
  bridge: `edgewarden${index}`,
  prefix: `10.${231 + index}`,
  gateway: `10.${231 + index}.0.1`,
  bits: 16,
  netnsPrefix: `ewpod${index}-`,
});

const CLAIMS = '/run/edgewarden-pod-networks';
const NETWORKS = 8;

/**
 * A pod network no live process holds: its index is claimed for `pid` (a file under /run
 * naming it). A claim whose process is gone is taken over; what it left is cleaned up when
 * the network is created.
 */
export function claimPodNetwork(pid = process.pid): PodNetworkPlan {
  mkdirSync(CLAIMS, { recursive: true });
  for (let index = 0; index < NETWORKS; index++) {
    const file = `${CLAIMS}/${index}`;
    let holder = NaN;
    try {
      holder = Number(readFileSync(file, 'utf8'));
    } catch {
      // unclaimed
    }
    if (Number.isInteger(holder) && holder !== pid && alive(holder)) continue;
    writeFileSync(file, String(pid));
    return podNetworkPlan(index);
  }
  throw new Error(`all ${NETWORKS} local pod networks are in use (${CLAIMS})`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface PodInterface {
  ip: string;
  netns: string;
}

export interface PodNetwork {
  gateway: string;
  /** A network namespace and an address for a pod (by uid), joined to the bridge. */
  attach(uid: string): Promise<PodInterface>;
  /** Removes the pod's namespace (its veth pair goes with it) and frees its address. */
  detach(uid: string): Promise<void>;
  /** Removes every pod's namespace and the bridge. */
  destroy(): Promise<void>;
}

const ip = async (...args: string[]): Promise<string> => (await exec('ip', args)).stdout;

/** Whatever a previous run left behind (killed before it could clean up), its pods included. */
async function removeLeftovers(plan: PodNetworkPlan): Promise<void> {
  const namespaces = (await ip('netns', 'list'))
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(plan.netnsPrefix));
  for (const n of namespaces) {
    const pids = (await ip('netns', 'pids', n).catch(() => '')).split('\n').filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await ip('netns', 'delete', n).catch(() => undefined);
  }
  await ip('link', 'delete', plan.bridge).catch(() => undefined);
}

export async function createPodNetwork(plan: PodNetworkPlan): Promise<PodNetwork> {
  if (process.getuid?.() !== 0)
    throw new Error('the local node needs root for its pod network (network namespaces)');
  await removeLeftovers(plan);
  const { bridge, gateway, bits, prefix } = plan;
  await ip('link', 'add', bridge, 'type', 'bridge');
  await ip('addr', 'add', `${gateway}/${bits}`, 'dev', bridge);
  await ip('link', 'set', bridge, 'up');

  const byUid = new Map<string, PodInterface & { index: number }>();
  let next = 2;
  const inUse = new Set<number>();
  const network: PodNetwork = {
    gateway,
    async attach(uid) {
      const existing = byUid.get(uid);
      if (existing) return existing;
      // Addresses are not reused until the whole range has gone round once.
      while (inUse.has(next) || next % 256 === 0 || next % 256 === 255)
        next = next >= 65_000 ? 2 : next + 1;
      const index = next;
      next = next >= 65_000 ? 2 : next + 1;
      inUse.add(index);
      const address = `${prefix}.${Math.floor(index / 256)}.${index % 256}`;
      const netns = `${plan.netnsPrefix}${index}`;
      // Interface names are at most 15 characters.
      const hostSide = `ewv${plan.index}-${index}`;
      await ip('netns', 'add', netns);
      await ip('link', 'add', hostSide, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns);
      await ip('link', 'set', hostSide, 'master', bridge, 'up');
      await ip('-n', netns, 'addr', 'add', `${address}/${bits}`, 'dev', 'eth0');
      await ip('-n', netns, 'link', 'set', 'eth0', 'up');
      await ip('-n', netns, 'link', 'set', 'lo', 'up');
      await ip('-n', netns, 'route', 'add', 'default', 'via', gateway);
      const attached = { ip: address, netns, index };
      byUid.set(uid, attached);
      return attached;
    },
    async detach(uid) {
      const attached = byUid.get(uid);
      if (!attached) return;
      byUid.delete(uid);
      await ip('netns', 'delete', attached.netns).catch(() => undefined);
      inUse.delete(attached.index);
    },
    async destroy() {
      for (const uid of [...byUid.keys()]) await network.detach(uid);
      await ip('link', 'delete', bridge).catch(() => undefined);
    },
  };
  return network;
}

/**
 * The processes in the network namespace of the local pod network that holds `podIP`: the
 * pod's container. What a test may look inside a pod with, as `kubectl exec` would (the node
 * has no exec): /proc/PID/root is the container's own view of the files, its volumes mounted.
 */
export async function podProcesses(podIP: string): Promise<number[]> {
  const namespaces = (await ip('netns', 'list'))
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith('ewpod'));
  for (const n of namespaces) {
    const addresses = await ip('-n', n, '-o', '-4', 'addr', 'show', 'dev', 'eth0').catch(() => '');
    if (!addresses.includes(` ${podIP}/`)) continue;
    return (await ip('netns', 'pids', n)).split('\n').filter(Boolean).map(Number);
  }
  return [];
}
