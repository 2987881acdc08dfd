// The anomaly ID users see and give: `<pod>:<id>` (auth-agent-0:17), a pod of an AnalysisAgent's
// StatefulSet (named `<agent>-agent-<n>` by the operator; a long name is shortened with a hash,
// so the AnalysisAgent is read from the pod's labels, not its name) and the id its store gave
// the anomaly. Pure.

export interface AnomalyId {
  pod: string;
  id: number;
}

export type ParsedId = { ok: true; value: AnomalyId } | { ok: false; error: string };

export function parseAnomalyId(text: string): ParsedId {
  const match = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?-\d+):(\d+)$/.exec(text);
  const id = Number(match?.[3]);
  if (!match || match[1]!.length > 253 || !Number.isSafeInteger(id) || id < 1)
    return {
      ok: false,
      error: `"${text}" is not an anomaly ID: <pod>:<id>, as the ID column shows (auth-agent-0:17)`,
    };
  return { ok: true, value: { pod: match[1]!, id } };
}

export const formatAnomalyId = (pod: string, id: number): string => `${pod}:${id}`;
