// The test node's configuration files, as pure functions of its layout: containerd's (with its
// CRI plugin), the CNI network, the kubelet's and kube-proxy's, and their kubeconfigs. Kept
// apart from realNode.ts, which writes them and starts the processes, so each setting can be
// read (and tested) in one place. Each setting that differs from a stock node says why.

/** Where the node lives: one per machine (its addresses and bridges are fixed). */
export const NODE = {
  name: 'edgewarden-node',
  /** The node's own address, on a bridge of its own (this kernel has no dummy links). */
  bridge: 'ew-node0',
  address: '10.201.0.1',
  /** Pods' addresses: the CNI bridge plugin's network, the gateway on this machine. */
  cniBridge: 'ew-cni0',
  cniNetwork: 'edgewarden-node',
  podCidr: '10.202.0.0/24',
  /** The Service range the API server allocates from, and the two fixed Service IPs in it. */
  serviceCidr: '10.0.0.0/24',
  apiServiceIp: '10.0.0.1',
  clusterDns: '10.0.0.10',
  clusterDomain: 'cluster.local',
} as const;

export interface NodeLayout {
  /** The node's folder: containerd's root and state, the kubelet's root, logs, claims. */
  dir: string;
  /** The control plane's CA (its certificate signs every certificate below). */
  caFile: string;
  /** The pause image's reference, as imported into containerd. */
  sandboxImage: string;
  kubeletPort: number;
  kubeletHealthzPort: number;
  proxyHealthzPort: number;
  proxyMetricsPort: number;
}

export const containerdSocket = (dir: string): string => `${dir}/containerd/containerd.sock`;

/**
 * containerd 1.6 (Debian's), its CRI plugin on, everything in the node's folder so that runs
 * never share state with Docker's own containerd.
 */
export function containerdConfig(layout: NodeLayout): string {
  const { dir } = layout;
  return `version = 2
root = "${dir}/containerd/root"
state = "${dir}/containerd/state"

[grpc]
  address = "${containerdSocket(dir)}"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${layout.sandboxImage}"
  # The machine lacks CAP_SYS_RESOURCE: containerd may only raise pods' oom_score_adj.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        # No systemd here: cgroupfs, as the kubelet's cgroupDriver.
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    # Debian's containernetworking-plugins.
    bin_dir = "/usr/lib/cni"
    conf_dir = "${dir}/cni/net.d"
`;
}

/** The pod network: the CNI bridge plugin with host-local addresses, and port mappings. */
export function cniConfig(dir: string): string {
  return `${JSON.stringify(
    {
      cniVersion: '0.4.0',
      name: NODE.cniNetwork,
      plugins: [
        {
          type: 'bridge',
          bridge: NODE.cniBridge,
          isGateway: true,
          ipMasq: true,
          // A pod reaching itself through its Service comes back over the bridge.
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: NODE.podCidr }]],
            routes: [{ dst: '0.0.0.0/0' }],
            dataDir: `${dir}/cni/ipam`,
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  )}\n`;
}

/**
 * A kubelet as kubeadm configures one, with what this machine needs: cgroup v1 allowed
 * (hybrid hierarchy) and cgroupfs (no systemd), swap tolerated, and eviction thresholds low
 * enough that a shared disk never evicts the suite's pods.
 */
export function kubeletConfig(layout: NodeLayout): string {
  const { dir } = layout;
  return `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: ${NODE.address}
port: ${layout.kubeletPort}
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: ${layout.kubeletHealthzPort}
tlsCertFile: ${dir}/kubelet-serving.crt
tlsPrivateKeyFile: ${dir}/kubelet-serving.key
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: ${layout.caFile} }
authorization:
  mode: Webhook
containerRuntimeEndpoint: unix://${containerdSocket(dir)}
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
clusterDNS: [${NODE.clusterDns}]
clusterDomain: ${NODE.clusterDomain}
podLogsDir: ${dir}/pod-logs
staticPodPath: ""
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  nodefs.inodesFree: 1%
  imagefs.available: 1%
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
`;
}

/** kube-proxy in iptables mode, as k3s runs it; it leaves the machine's conntrack sizes alone. */
export function kubeProxyConfig(layout: NodeLayout): string {
  return `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: ${layout.dir}/kube-proxy.kubeconfig
mode: iptables
clusterCIDR: ${NODE.podCidr}
hostnameOverride: ${NODE.name}
healthzBindAddress: 127.0.0.1:${layout.proxyHealthzPort}
metricsBindAddress: 127.0.0.1:${layout.proxyMetricsPort}
nodePortAddresses: [${NODE.address}/32]
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
iptables:
  minSyncPeriod: 1s
  syncPeriod: 30s
`;
}

/** A kubeconfig presenting a client certificate issued by the control plane's CA. */
export function clientKubeconfig(
  server: string,
  caFile: string,
  cert: string,
  key: string,
): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: edgewarden-test
  cluster: { server: "${server}", certificate-authority: "${caFile}" }
users:
- name: node
  user: { client-certificate: "${cert}", client-key: "${key}" }
contexts:
- name: edgewarden-test
  context: { cluster: edgewarden-test, user: node }
current-context: edgewarden-test
`;
}
