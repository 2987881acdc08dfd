// The test node's cluster add-ons, as k3s ships them: CoreDNS behind the kube-dns Service
// (cluster DNS for pods) and rancher's local-path-provisioner with its default StorageClass
// `local-path` (claims become folders of the node). Both run as pods on the node, from images
// made by test/node/images.sh, with the RBAC and configuration of their upstream manifests
// (CoreDNS's deployment/kubernetes, local-path-provisioner's deploy/local-path-storage.yaml),
// written out here. Pure: realNode.ts applies them.
import { NODE } from './nodeConfig.js';

export interface AddonImages {
  coredns: string;
  localPathProvisioner: string;
  busybox: string;
}

/** The port CoreDNS listens on inside its pod: unprivileged, so it needs no capability. */
const DNS_PORT = 1053;

export function corednsManifest(image: string): string {
  return `apiVersion: v1
kind: ServiceAccount
metadata: { name: coredns, namespace: kube-system }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: 'system:coredns' }
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: 'system:coredns' }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: 'system:coredns' }
subjects: [{ kind: ServiceAccount, name: coredns, namespace: kube-system }]
---
apiVersion: v1
kind: ConfigMap
metadata: { name: coredns, namespace: kube-system }
data:
  Corefile: |
    .:${DNS_PORT} {
        errors
        ready :8181
        kubernetes ${NODE.clusterDomain} in-addr.arpa ip6.arpa {
            pods insecure
            fallthrough in-addr.arpa ip6.arpa
        }
        forward . /etc/resolv.conf
        cache 30
    }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: coredns, namespace: kube-system, labels: { k8s-app: kube-dns } }
spec:
  replicas: 1
  selector: { matchLabels: { k8s-app: kube-dns } }
  template:
    metadata: { labels: { k8s-app: kube-dns } }
    spec:
      serviceAccountName: coredns
      priorityClassName: system-cluster-critical
      dnsPolicy: Default
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        seccompProfile: { type: RuntimeDefault }
      containers:
      - name: coredns
        image: ${image}
        imagePullPolicy: Never
        args: [-conf, /etc/coredns/Corefile]
        ports:
        - { name: dns, containerPort: ${DNS_PORT}, protocol: UDP }
        - { name: dns-tcp, containerPort: ${DNS_PORT}, protocol: TCP }
        readinessProbe:
          httpGet: { path: /ready, port: 8181 }
          periodSeconds: 2
        resources:
          requests: { cpu: 50m, memory: 32Mi }
          limits: { memory: 128Mi }
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities: { drop: [ALL] }
        volumeMounts: [{ name: config, mountPath: /etc/coredns, readOnly: true }]
      volumes: [{ name: config, configMap: { name: coredns } }]
---
apiVersion: v1
kind: Service
metadata: { name: kube-dns, namespace: kube-system, labels: { k8s-app: kube-dns } }
spec:
  clusterIP: ${NODE.clusterDns}
  selector: { k8s-app: kube-dns }
  ports:
  - { name: dns, port: 53, targetPort: ${DNS_PORT}, protocol: UDP }
  - { name: dns-tcp, port: 53, targetPort: ${DNS_PORT}, protocol: TCP }
`;
}

/** Claims' folders live under `claimsDir`, on this machine (the node). */
export function localPathManifest(images: AddonImages, claimsDir: string): string {
  const config = JSON.stringify({
    nodePathMap: [{ node: 'DEFAULT_PATH_FOR_NON_LISTED_NODES', paths: [claimsDir] }],
  });
  return `apiVersion: v1
kind: Namespace
metadata: { name: local-path-storage }
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: local-path-provisioner-service-account, namespace: local-path-storage }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: local-path-provisioner-role, namespace: local-path-storage }
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch, create, patch, update, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: local-path-provisioner-role }
rules:
- apiGroups: [""]
  resources: [nodes, persistentvolumeclaims, configmaps, pods, pods/log]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [persistentvolumes]
  verbs: [get, list, watch, create, patch, update, delete]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
- apiGroups: [storage.k8s.io]
  resources: [storageclasses]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: local-path-provisioner-bind, namespace: local-path-storage }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: local-path-provisioner-role }
subjects: [{ kind: ServiceAccount, name: local-path-provisioner-service-account, namespace: local-path-storage }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: local-path-provisioner-bind }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: local-path-provisioner-role }
subjects: [{ kind: ServiceAccount, name: local-path-provisioner-service-account, namespace: local-path-storage }]
---
apiVersion: v1
kind: ConfigMap
metadata: { name: local-path-config, namespace: local-path-storage }
data:
  config.json: '${config}'
  setup: |-
    #!/bin/sh
    set -eu
    mkdir -m 0777 -p "$VOL_DIR"
  teardown: |-
    #!/bin/sh
    set -eu
    rm -rf "$VOL_DIR"
  helperPod.yaml: |-
    apiVersion: v1
    kind: Pod
    metadata:
      name: helper-pod
    spec:
      priorityClassName: system-node-critical
      tolerations:
      - key: node.kubernetes.io/disk-pressure
        operator: Exists
        effect: NoSchedule
      containers:
      - name: helper-pod
        image: ${images.busybox}
        imagePullPolicy: Never
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: local-path-provisioner, namespace: local-path-storage }
spec:
  replicas: 1
  selector: { matchLabels: { app: local-path-provisioner } }
  template:
    metadata: { labels: { app: local-path-provisioner } }
    spec:
      serviceAccountName: local-path-provisioner-service-account
      containers:
      - name: local-path-provisioner
        image: ${images.localPathProvisioner}
        imagePullPolicy: Never
        command: [local-path-provisioner, --debug, start, --config, /etc/config/config.json]
        env:
        - name: POD_NAMESPACE
          valueFrom: { fieldRef: { fieldPath: metadata.namespace } }
        - { name: CONFIG_MOUNT_PATH, value: /etc/config/ }
        volumeMounts: [{ name: config-volume, mountPath: /etc/config/ }]
      volumes: [{ name: config-volume, configMap: { name: local-path-config } }]
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local-path
  annotations: { storageclass.kubernetes.io/is-default-class: 'true' }
provisioner: rancher.io/local-path
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Delete
`;
}
