// The kinds the operator reads and writes, each written once: ours at the API's one version
// (api/src/validate.ts), Kubernetes' own at theirs.
import { apiVersion } from '../../../api/src/validate.js';
import type { Resource } from '../runtime/kubeClient.js';

const ours = (kind: string, plural: string): Resource => ({
  apiVersion,
  kind,
  plural,
  namespaced: true,
});

export const RESOURCES = {
  analysisAgent: ours('AnalysisAgent', 'analysisagents'),
  modelDeployment: ours('ModelDeployment', 'modeldeployments'),
  exportJob: ours('ExportJob', 'exportjobs'),
  statefulSet: {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    plural: 'statefulsets',
    namespaced: true,
  },
  job: { apiVersion: 'batch/v1', kind: 'Job', plural: 'jobs', namespaced: true },
  service: { apiVersion: 'v1', kind: 'Service', plural: 'services', namespaced: true },
  configMap: { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true },
  serviceAccount: {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    plural: 'serviceaccounts',
    namespaced: true,
  },
  pod: { apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true },
  secret: { apiVersion: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true },
  claim: {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    plural: 'persistentvolumeclaims',
    namespaced: true,
  },
} satisfies Record<string, Resource>;
