// An AnalysisAgent as the API server returns it: named, namespaced, with a uid (what owner
// references and the children's names need), which the generated type leaves optional.
import type { AnalysisAgent } from '../../../../api/src/generated/types.js';

export type StoredAgent = AnalysisAgent & {
  metadata: { name: string; namespace: string; uid: string; generation?: number };
};
