// The NetworkPolicy an AnalysisAgent's pods get (issue 20, H2): their HTTP port (/status,
// /metrics, model delivery, the stored anomalies with addresses, MACs and user names) only from
// the operator's pods, the export pods of their own namespace, the configured scrapers and, when
// set, the networks the API server's pod proxy comes from (kubectl edgewarden, issue 21).
// Ingress only: the agents reach PostgreSQL, Redis and model URLs wherever they are, so egress
// stays open. The kubelet's probes come from the node, which NetworkPolicy implementations let
// through whatever the policy says (kube-router, k3s's embedded controller, included).
import { agentDefaults } from '../../../../agent-runtime/src/contract/index.js';
import type { Child } from '../children.js';

/** Who may reach the agents, besides the export pods of their namespace. */
export interface AgentNetworkPolicySettings {
  /** The operator's namespace (its pods poll /status and deliver models). */
  operatorNamespace: string;
  /** Labels of the operator's pods (the chart's selector labels). */
  operatorPodLabels: Record<string, string>;
  /** The scrapers' namespace; unset: pods of these labels in any namespace. */
  scraperNamespace?: string;
  /** Labels of the scraper pods; empty: every pod of the scrapers' namespace. */
  scraperPodLabels: Record<string, string>;
  /**
   * Networks (CIDRs) the API server's pod proxy comes from: the control-plane nodes' addresses
   * on a cluster of several nodes, where `kubectl edgewarden` and `kubectl get --raw` reach an
   * agent from another node than its own (the policy API lets the pod's own node through).
   */
  apiServerCidrs?: string[];
}

/** The label every namespace carries with its own name (set by the API server). */
const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/**
 * Pods the operator makes for ExportJobs: they page the agent's /anomalies. Written out, not
 * imported: the ExportJob's desired.ts imports this folder's types (a cycle); a unit test holds
 * these equal to the labels of a real export Job's pods.
 */
export const EXPORT_POD_LABELS = {
  'app.kubernetes.io/managed-by': 'edgewarden-operator',
  'app.kubernetes.io/component': 'export',
};

const inNamespace = (namespace: string) => ({
  matchLabels: { [NAMESPACE_NAME_LABEL]: namespace },
});

/** The `from` peers allowed to reach the agent's pods. */
function allowedPeers(settings: AgentNetworkPolicySettings): Record<string, unknown>[] {
  return [
    {
      namespaceSelector: inNamespace(settings.operatorNamespace),
      podSelector: { matchLabels: settings.operatorPodLabels },
    },
    // No namespaceSelector: the policy's own namespace, where an agent's ExportJobs run.
    { podSelector: { matchLabels: EXPORT_POD_LABELS } },
    {
      namespaceSelector:
        settings.scraperNamespace === undefined ? {} : inNamespace(settings.scraperNamespace),
      podSelector: { matchLabels: settings.scraperPodLabels },
    },
    ...(settings.apiServerCidrs ?? []).map((cidr) => ({ ipBlock: { cidr } })),
  ];
}

/**
 * The agent's NetworkPolicy: `podSelector` the agent's pods (the StatefulSet's selector), ingress
 * on the agent's HTTP port from the allowed peers only.
 */
export function agentNetworkPolicy(
  metadata: Child['metadata'],
  podLabels: Record<string, string>,
  settings: AgentNetworkPolicySettings,
): Child {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata,
    spec: {
      podSelector: { matchLabels: podLabels },
      policyTypes: ['Ingress'],
      ingress: [
        {
          ports: [{ port: agentDefaults.port, protocol: 'TCP' }],
          from: allowedPeers(settings),
        },
      ],
    },
  };
}
