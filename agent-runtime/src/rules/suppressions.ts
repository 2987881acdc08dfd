// spec.rules.suppressions: findings of one rule not to report for a narrow scope (a device, a
// source address or network, a user) until a time, usually proposed by `kubectl edgewarden
// false-positive`. Applied to each anomaly after the engine made it, so the detectors learn
// as before and a suppression that expires reports the very next finding. Pure.
import { BlockList } from 'node:net';

import type { AnalysisAgentSpecRulesSuppressionsItem } from '../../../api/src/generated/types.js';
import type { Anomaly } from '../agents/types.js';
import { addNetwork, sourceInside, sourceNetwork } from './sourceNetworks.js';
import { RuleError } from './ruleTypes.js';

/** One entry of spec.rules.suppressions, as the AnalysisAgent gives it. */
export type SuppressionSpec = AnalysisAgentSpecRulesSuppressionsItem;

/** A suppression ready to match: its spec entry, where it stands in the list, and its end. */
export interface Suppression {
  spec: SuppressionSpec;
  /** Its index in spec.rules.suppressions. */
  index: number;
  expiresAt: number;
  /** The source as a network (unset: any source). */
  network?: BlockList;
}

// RFC 3339, as the schema's date-time: Date.parse alone would take "2027" or "Jan 5".
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Checks and compiles one entry; a bad field throws a RuleError naming it by index. */
function compileSuppression(spec: SuppressionSpec, index: number): Suppression {
  const field = (name: string): string => `spec.rules.suppressions[${index}].${name}`;
  const refuse = (name: string, reason: string): never => {
    throw new RuleError('suppression', field(name), reason);
  };
  if (typeof spec.rule !== 'string' || spec.rule.trim() === '')
    refuse('rule', 'a suppression names the rule it suppresses');
  for (const name of ['device', 'user'] as const)
    if (spec[name] !== undefined && (typeof spec[name] !== 'string' || spec[name] === ''))
      refuse(name, `${name} is empty`);
  if (spec.device === undefined && spec.source === undefined && spec.user === undefined)
    refuse('device', 'a suppression sets at least one of device, source, user');
  const expiresAt = typeof spec.expires === 'string' ? Date.parse(spec.expires) : NaN;
  if (!RFC3339.test(String(spec.expires)) || Number.isNaN(expiresAt))
    refuse('expires', `"${String(spec.expires)}" is not an RFC 3339 date-time`);
  let network: BlockList | undefined;
  if (spec.source !== undefined) {
    network = new BlockList();
    addNetwork(network, sourceNetwork(String(spec.source), 'suppression', field('source')));
  }
  return { spec, index, expiresAt, ...(network ? { network } : {}) };
}

/** Whether a suppression covers an anomaly at a time (before its expiry, strictly). */
export function covers(s: Suppression, anomaly: Anomaly, now: Date): boolean {
  const { spec } = s;
  return (
    now.getTime() < s.expiresAt &&
    anomaly.rule === spec.rule &&
    (spec.device === undefined || anomaly.device === spec.device) &&
    (spec.user === undefined || anomaly.captures?.user === spec.user) &&
    (s.network === undefined || sourceInside(s.network, anomaly.captures?.source))
  );
}

/** The compiled spec.rules.suppressions of the rules in force. */
export class Suppressions {
  readonly list: readonly Suppression[];

  /** Throws a RuleError naming `spec.rules.suppressions[i].<field>` for the first bad entry. */
  constructor(specs: readonly SuppressionSpec[] = []) {
    this.list = specs.map(compileSuppression);
  }

  /** The first suppression covering the anomaly now, or undefined. */
  suppressedBy(anomaly: Anomaly, now: Date): Suppression | undefined {
    if (anomaly.rule === undefined) return undefined;
    return this.list.find((s) => covers(s, anomaly, now));
  }

  /** How many apply now, and how many have expired (kept in the spec, ignored). */
  count(now: Date): { active: number; expired: number } {
    const expired = this.list.filter((s) => now.getTime() >= s.expiresAt).length;
    return { active: this.list.length - expired, expired };
  }

  /** The anomalies no suppression covers, and how many each rule had suppressed. */
  partition(
    anomalies: readonly Anomaly[],
    now: Date,
  ): { kept: Anomaly[]; suppressed: Map<string, number> } {
    const kept: Anomaly[] = [];
    const suppressed = new Map<string, number>();
    for (const a of anomalies) {
      if (this.list.length > 0 && this.suppressedBy(a, now))
        suppressed.set(a.rule!, (suppressed.get(a.rule!) ?? 0) + 1);
      else kept.push(a);
    }
    return { kept, suppressed };
  }
}
