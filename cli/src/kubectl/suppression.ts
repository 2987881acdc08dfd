// What `false-positive` proposes to the AnalysisAgent: a suppression (spec.rules.suppressions[],
// docs/rules.md) scoped as narrowly as the anomaly's evidence allows — its rule, its device, and
// the source address and user its rule grouped by (captures) — until an expiry; and the JSON
// patch that appends it. Pure: the patch tests the object's resourceVersion, so an AnalysisAgent
// changed between the read and the write is refused rather than overwritten.
import { isIP } from 'node:net';

import type { AnalysisAgentSpecRulesSuppressionsItem } from '../../../api/src/generated/types.js';
import type { WireAnomaly } from './wire.js';

/** As the CRD holds them (spec.rules.suppressions, maxItems 100). */
export type Suppression = AnalysisAgentSpecRulesSuppressionsItem;

export const MAX_SUPPRESSIONS = 100;
const TEXT_LIMIT = 256;

export type Proposal = { ok: true; suppression: Suppression } | { ok: false; reason: string };

export function proposeSuppression(
  anomaly: Pick<WireAnomaly, 'rule' | 'device' | 'captures'>,
  o: { now: Date; expiresMs: number; note?: string; user: string },
): Proposal {
  if (!anomaly.rule)
    return {
      ok: false,
      reason:
        'the anomaly names no rule (a baseline or a model found it), and a suppression is of a rule: nothing to suppress',
    };
  const captures = anomaly.captures ?? {};
  const expires = new Date(o.now.getTime() + o.expiresMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    ok: true,
    suppression: {
      rule: anomaly.rule,
      device: anomaly.device,
      ...(addressOf(captures.source) ? { source: addressOf(captures.source) } : {}),
      ...(captures.user ? { user: captures.user } : {}),
      expires,
      ...(o.note ? { reason: o.note.slice(0, TEXT_LIMIT) } : {}),
      createdBy: o.user.slice(0, TEXT_LIMIT),
    },
  };
}

/**
 * The capture as the schema's source takes it (an address, brackets dropped), or undefined: a
 * rule's source capture may be a host name or a scoped IPv6 address (fe80::1%br-lan), which the
 * API server would refuse, so the suppression is then scoped without it.
 */
function addressOf(source: string | undefined): string | undefined {
  const address = source?.replace(/^\[|\]$/g, '');
  return address && !address.includes('%') && isIP(address) !== 0 ? address : undefined;
}

/** The AnalysisAgent fields the patch is computed from. */
export interface AgentForPatch {
  metadata: { resourceVersion?: string };
  spec?: { rules?: { suppressions?: Suppression[] } };
}

const sameScope = (a: Suppression, b: Suppression): boolean =>
  a.rule === b.rule && a.device === b.device && a.source === b.source && a.user === b.user;

export type JsonPatch = { op: 'test' | 'add'; path: string; value: unknown }[];

export type PatchPlan =
  | { kind: 'patch'; patch: JsonPatch }
  | { kind: 'present'; existing: Suppression }
  | { kind: 'full' };

/**
 * The JSON patch appending `s` to the agent's suppressions; `present` when one of the same scope
 * that has not expired is there already (it is not doubled), `full` at the CRD's limit.
 */
export function suppressionPatch(agent: AgentForPatch, s: Suppression, now: Date): PatchPlan {
  const list = agent.spec?.rules?.suppressions;
  const existing = list?.find((e) => sameScope(e, s) && Date.parse(e.expires) > now.getTime());
  if (existing) return { kind: 'present', existing };
  if ((list?.length ?? 0) >= MAX_SUPPRESSIONS) return { kind: 'full' };
  const test = {
    op: 'test' as const,
    path: '/metadata/resourceVersion',
    value: agent.metadata.resourceVersion,
  };
  const add = list
    ? { op: 'add' as const, path: '/spec/rules/suppressions/-', value: s }
    : agent.spec?.rules
      ? { op: 'add' as const, path: '/spec/rules/suppressions', value: [s] }
      : { op: 'add' as const, path: '/spec/rules', value: { suppressions: [s] } };
  return { kind: 'patch', patch: [test, add] };
}
