// The label selectors the operator's informers watch its children with: only what it made
// (managed-by), and of pods only the components it reads.
import { CLEANUP_COMPONENT, EXPORT_COMPONENT } from './exportJob/desired.js';

export const MANAGED_CHILDREN = 'app.kubernetes.io/managed-by=edgewarden-operator';
export const AGENT_PODS = `${MANAGED_CHILDREN},app.kubernetes.io/component=agent`;
export const EXPORT_PODS = `${MANAGED_CHILDREN},app.kubernetes.io/component in (${EXPORT_COMPONENT},${CLEANUP_COMPONENT})`;
