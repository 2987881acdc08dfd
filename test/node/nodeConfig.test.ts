// The test node's configuration as the daemons will read it: each file parses, names the
// node's folder, socket and addresses consistently, and keeps the settings this machine needs
// (docs/testing.md, "The real node"). The node itself is exercised by the end-to-end tier.
import { parse, parseAllDocuments } from 'yaml';

import { corednsManifest, localPathManifest } from './addons.js';
import {
  NODE,
  cniConfig,
  containerdConfig,
  containerdSocket,
  kubeletConfig,
  kubeProxyConfig,
  type NodeLayout,
} from './nodeConfig.js';

const layout: NodeLayout = {
  dir: '/tmp/run/node',
  caFile: '/tmp/run/ca.crt',
  sandboxImage: 'localhost/edgewarden-test/pause:v1.34.4',
  kubeletPort: 10250,
  kubeletHealthzPort: 10248,
  proxyHealthzPort: 10256,
  proxyMetricsPort: 10249,
};

test("the kubelet's configuration: this machine's cgroups, the node's runtime, DNS and address", () => {
  const config = parse(kubeletConfig(layout)) as Record<string, unknown>;
  expect(config).toMatchObject({
    kind: 'KubeletConfiguration',
    address: NODE.address,
    cgroupDriver: 'cgroupfs',
    failCgroupV1: false,
    failSwapOn: false,
    containerRuntimeEndpoint: `unix://${containerdSocket(layout.dir)}`,
    clusterDNS: [NODE.clusterDns],
    clusterDomain: 'cluster.local',
    readOnlyPort: 0,
    authentication: { anonymous: { enabled: false }, x509: { clientCAFile: layout.caFile } },
    authorization: { mode: 'Webhook' },
  });
});

test("containerd's: its own root, state and socket under the node's folder, the pause image, CNI", () => {
  const toml = containerdConfig(layout);
  for (const line of [
    `root = "${layout.dir}/containerd/root"`,
    `state = "${layout.dir}/containerd/state"`,
    `address = "${containerdSocket(layout.dir)}"`,
    `sandbox_image = "${layout.sandboxImage}"`,
    'restrict_oom_score_adj = true',
    'SystemdCgroup = false',
    'bin_dir = "/usr/lib/cni"',
    `conf_dir = "${layout.dir}/cni/net.d"`,
  ])
    expect(toml).toContain(line);
});

test('the pod network, and kube-proxy over it', () => {
  const cni = JSON.parse(cniConfig(layout.dir)) as {
    name: string;
    plugins: { type: string; bridge?: string; ipam?: { ranges: { subnet: string }[][] } }[];
  };
  expect(cni.name).toBe(NODE.cniNetwork);
  expect(cni.plugins[0]).toMatchObject({ type: 'bridge', bridge: NODE.cniBridge });
  expect(cni.plugins[0]!.ipam!.ranges[0]![0]!.subnet).toBe(NODE.podCidr);
  expect(parse(kubeProxyConfig(layout))).toMatchObject({
    mode: 'iptables',
    clusterCIDR: NODE.podCidr,
    hostnameOverride: NODE.name,
    conntrack: { maxPerCore: 0 },
  });
});

test('the add-ons: CoreDNS behind kube-dns at the kubelet clusterDNS, and the default StorageClass', () => {
  const docs = parseAllDocuments(
    `${corednsManifest('coredns:x')}---\n${localPathManifest({ coredns: 'coredns:x', localPathProvisioner: 'lpp:x', busybox: 'busybox:x' }, '/claims')}`,
  ).map(
    (d) =>
      d.toJSON() as { kind: string; metadata: { name: string }; spec?: Record<string, unknown> },
  );
  const service = docs.find((d) => d.kind === 'Service' && d.metadata.name === 'kube-dns')!;
  expect(service.spec).toMatchObject({ clusterIP: NODE.clusterDns });
  const storageClass = docs.find((d) => d.kind === 'StorageClass')! as unknown as {
    metadata: { annotations: Record<string, string> };
    provisioner: string;
  };
  expect(storageClass.provisioner).toBe('rancher.io/local-path');
  expect(storageClass.metadata.annotations['storageclass.kubernetes.io/is-default-class']).toBe(
    'true',
  );
  const config = docs.find(
    (d) => d.kind === 'ConfigMap' && d.metadata.name === 'local-path-config',
  ) as unknown as {
    data: Record<string, string>;
  };
  expect(JSON.parse(config.data['config.json']!)).toEqual({
    nodePathMap: [{ node: 'DEFAULT_PATH_FOR_NON_LISTED_NODES', paths: ['/claims'] }],
  });
});
