// The kinds the operator reads and writes, each written once: ours at the API's one version
// (api/src/validate.ts), Kubernetes' own at theirs. All of them live in namespaces.
import { apiVersion } from '../../../api/src/validate.js';
import type { Resource } from '../runtime/kubeClient.js';

const namespaced = (version: string, kind: string, plural: string): Resource => ({
  apiVersion: version,
  kind,
  plural,
  namespaced: true,
});

export const RESOURCES = {
  analysisAgent: namespaced(apiVersion, 'AnalysisAgent', 'analysisagents'),
  modelDeployment: namespaced(apiVersion, 'ModelDeployment', 'modeldeployments'),
  exportJob: namespaced(apiVersion, 'ExportJob', 'exportjobs'),
  statefulSet: namespaced('apps/v1', 'StatefulSet', 'statefulsets'),
  job: namespaced('batch/v1', 'Job', 'jobs'),
  service: namespaced('v1', 'Service', 'services'),
  configMap: namespaced('v1', 'ConfigMap', 'configmaps'),
  serviceAccount: namespaced('v1', 'ServiceAccount', 'serviceaccounts'),
  networkPolicy: namespaced('networking.k8s.io/v1', 'NetworkPolicy', 'networkpolicies'),
  pod: namespaced('v1', 'Pod', 'pods'),
  secret: namespaced('v1', 'Secret', 'secrets'),
  claim: namespaced('v1', 'PersistentVolumeClaim', 'persistentvolumeclaims'),
} satisfies Record<string, Resource>;
