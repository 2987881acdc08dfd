// The test node's files, written into its folder before anything starts: its certificates
// from the control plane's CA, containerd's, the CNI network's, the kubelet's and kube-proxy's
// configuration (nodeConfig.ts), their kubeconfigs, and a crictl that talks to its containerd.
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { freePort } from '../services/net.js';
import { issueCertificate } from '../services/certs.js';
import {
  NODE,
  clientKubeconfig,
  cniConfig,
  containerdConfig,
  containerdSocket,
  kubeletConfig,
  kubeProxyConfig,
  type NodeLayout,
} from './nodeConfig.js';

export interface NodeFilesOptions {
  /** The control plane's folder: its CA (ca.crt, ca.key) signs the node's certificates. */
  controlPlaneDir: string;
  /** The node's folder. */
  dir: string;
  /** The API server, at the node's address. */
  server: string;
  /** The pause image's reference, as imported. */
  sandboxImage: string;
  crictlBinary: string;
}

export async function writeNodeFiles(
  options: NodeFilesOptions,
): Promise<{ socket: string; crictl: string }> {
  const { controlPlaneDir: cp, dir, server, sandboxImage, crictlBinary } = options;
  // Certificates from the control plane's CA: the kubelet's client (the Node authorizer
  // knows it by system:node:<name>), its serving certificate (the API server verifies it),
  // and kube-proxy's client (bound to system:node-proxier by the default policy).
  const ca = path.join(cp, 'ca.crt');
  await issueCertificate(
    cp,
    'kubelet-client',
    `/O=system:nodes/CN=system:node:${NODE.name}`,
    'extendedKeyUsage=clientAuth',
  );
  await issueCertificate(
    cp,
    'kubelet-serving',
    `/CN=${NODE.name}`,
    `subjectAltName=IP:${NODE.address},DNS:${NODE.name}\nextendedKeyUsage=serverAuth`,
  );
  await issueCertificate(cp, 'kube-proxy', '/CN=system:kube-proxy', 'extendedKeyUsage=clientAuth');
  const [kubeletPort, kubeletHealthzPort, proxyHealthzPort, proxyMetricsPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const layout: NodeLayout = {
    dir,
    caFile: ca,
    sandboxImage,
    kubeletPort,
    kubeletHealthzPort,
    proxyHealthzPort,
    proxyMetricsPort,
  };
  for (const name of ['kubelet-serving.crt', 'kubelet-serving.key'])
    await writeFile(path.join(dir, name), await readFile(path.join(cp, name)));
  await writeFile(path.join(dir, 'containerd.toml'), containerdConfig(layout));
  await writeFile(path.join(dir, 'cni/net.d/10-edgewarden.conflist'), cniConfig(dir));
  await writeFile(path.join(dir, 'kubelet.yaml'), kubeletConfig(layout));
  await writeFile(path.join(dir, 'kube-proxy.yaml'), kubeProxyConfig(layout));
  await writeFile(
    path.join(dir, 'kubelet.kubeconfig'),
    clientKubeconfig(server, ca, `${cp}/kubelet-client.crt`, `${cp}/kubelet-client.key`),
  );
  await writeFile(
    path.join(dir, 'kube-proxy.kubeconfig'),
    clientKubeconfig(server, ca, `${cp}/kube-proxy.crt`, `${cp}/kube-proxy.key`),
  );
  const socket = containerdSocket(dir);
  const crictl = path.join(dir, 'crictl');
  await writeFile(
    path.join(dir, 'crictl.yaml'),
    `runtime-endpoint: unix://${socket}\nimage-endpoint: unix://${socket}\ntimeout: 30\n`,
  );
  await writeFile(
    crictl,
    `#!/bin/sh\nexec ${crictlBinary} --config ${path.join(dir, 'crictl.yaml')} "$@"\n`,
  );
  await chmod(crictl, 0o755);
  return { socket, crictl };
}
