// The anomaly ID users see and give: `<pod>:<id>` (auth-0:17), the pod one of the StatefulSet
// `<agent>` makes (`<agent>-<n>`), the id its store gave the anomaly. Pure.

export interface AnomalyId {
  pod: string;
  /** The AnalysisAgent: the pod's name without its ordinal. */
  agent: string;
  id: number;
}

export type ParsedId = { ok: true; value: AnomalyId } | { ok: false; error: string };

export function parseAnomalyId(text: string): ParsedId {
  const match = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)-(\d+):(\d+)$/.exec(text);
  const id = Number(match?.[4]);
  if (!match || !Number.isSafeInteger(id) || id < 1)
    return {
      ok: false,
      error: `"${text}" is not an anomaly ID: <pod>:<id>, as the ID column shows (auth-0:17)`,
    };
  return { ok: true, value: { pod: `${match[1]}-${match[3]}`, agent: match[1]!, id } };
}

export const formatAnomalyId = (pod: string, id: number): string => `${pod}:${id}`;
