// An agent pod's stable address in cluster DNS: <pod>.<headless Service>.<namespace>.svc. A
// StatefulSet's pods keep their names across restarts and rescheduling, and the agent's
// headless Service (publishNotReadyAddresses) gives each pod a record, so a client holding the
// name reaches the pod wherever it runs now; a pod IP goes stale with its first restart.
// Relative to the cluster's domain (pods' resolv.conf search path), so no cluster.local is
// assumed.
import { childName } from '../children.js';

export function agentPodHost(agentName: string, podName: string, namespace: string): string {
  return `${podName}.${childName(agentName, 'agent')}.${namespace}.svc`;
}
