// The export plan, read and checked once at start: the operator's ExportPlan (the spec with
// the schema's defaults filled in, the window already resolved) turned into the settings the
// run needs. Anything that can never work is an ExportFailure with exit code badSpec.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

import type { ExportJobSpec } from '../../../api/src/generated/types.js';
import { quantityBytes } from '../../../api/src/quantity.js';
import { withSchemaDefaults } from '../../../api/src/defaults.js';
import { apiVersion, ResourceValidator } from '../../../api/src/validate.js';
import { exportExit, type ExportPlan } from '../contract/export.js';
import { resolveMapping, type Preset } from '../source/presets.js';

/** Why the run stops: a CamelCase reason, a message, and the exit code it ends with. */
export class ExportFailure extends Error {
  constructor(
    readonly reason: string,
    message: string,
    readonly exitCode: number = exportExit.failed,
  ) {
    super(message);
    this.name = 'ExportFailure';
  }
}

const badSpec = (reason: string, message: string): ExportFailure =>
  new ExportFailure(reason, message, exportExit.badSpec);

export type DataType = 'logs' | 'anomalies';
export type Level = NonNullable<NonNullable<ExportJobSpec['filters']>['levels']>[number];

export interface ExportSettings {
  plan: ExportPlan;
  /** File names start with this (the ExportJob's name). */
  name: string;
  uid: string;
  from: { iso: string; ms: number };
  to: { iso: string; ms: number };
  dataTypes: DataType[];
  format: 'json' | 'jsonl' | 'csv';
  compression: 'none' | 'gzip';
  batchSize: number;
  /** Bytes before compression at which a new file starts. */
  maxFileSize: number;
  timestamps: 'utc' | 'keep';
  hashAddresses: boolean;
  filters: {
    programs?: string[];
    devices?: string[];
    levels?: Level[];
    agents?: string[];
    minSeverity?: number;
  };
  /** The logs' table and columns, as the AnalysisAgent reads them. */
  mapping?: Preset;
  sslMode?: NonNullable<ExportPlan['logs']>['source']['sslMode'];
  anomalySources: NonNullable<ExportPlan['anomalies']>;
  /** A digest of what decides the rows and bytes: a checkpoint of another plan is not resumed. */
  digest: string;
}

const SEVERITY: Record<string, number> = { info: 1, low: 2, medium: 3, high: 4, critical: 5 };
/** Kubernetes object names: safe as the start of a file name. */
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export async function readPlan(file: string): Promise<ExportPlan> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    // A missing plan file is the pod's mount, not the spec: worth a retry.
    throw new ExportFailure(
      'PlanUnreadable',
      `cannot read the plan ${file}: ${(error as Error).message}`,
    );
  }
  try {
    return JSON.parse(text) as ExportPlan;
  } catch (error) {
    throw badSpec('InvalidPlan', `${file}: not JSON: ${(error as Error).message}`);
  }
}

function instant(text: unknown, what: string): { iso: string; ms: number } {
  const ms = typeof text === 'string' ? Date.parse(text) : NaN;
  if (Number.isNaN(ms))
    throw badSpec('BadTimeRange', `${what}: not an RFC 3339 time: ${String(text)}`);
  return { iso: new Date(ms).toISOString(), ms };
}

/** The logs' table and columns, as the plan's AnalysisAgent reads them. */
function logsMapping(plan: ExportPlan): Preset {
  const named = plan.logs?.source;
  if (!named) throw badSpec('InvalidPlan', 'dataTypes has logs, but the plan names no logs source');
  // The AnalysisAgent's source, with the defaults its schema declares (the preset's above all).
  const { source } = withSchemaDefaults('AnalysisAgent', { source: named });
  try {
    return resolveMapping(source.preset!, source.table, source.columns ?? {});
  } catch (error) {
    throw badSpec('InvalidSpec', (error as Error).message);
  }
}

const nonEmpty = <T>(xs: T[] | undefined): T[] | undefined => (xs?.length ? xs : undefined);

function filtersOf(f: NonNullable<ExportJobSpec['filters']>): ExportSettings['filters'] {
  return {
    programs: nonEmpty(f.programs),
    devices: nonEmpty(f.devices),
    levels: nonEmpty(f.levels),
    agents: nonEmpty(f.agents),
    minSeverity: f.minSeverity ? SEVERITY[f.minSeverity] : undefined,
  };
}

/** What decides the rows and bytes, hashed: a checkpoint of another plan is not resumed. */
function digestOf(settings: Omit<ExportSettings, 'digest'>): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        settings.name,
        settings.uid,
        settings.from.iso,
        settings.to.iso,
        settings.dataTypes,
        settings.format,
        settings.compression,
        settings.batchSize,
        settings.maxFileSize,
        settings.timestamps,
        settings.hashAddresses,
        settings.filters,
        settings.mapping,
        settings.anomalySources.map((s) => [s.agent, s.pod]),
      ]),
    )
    .digest('hex');
}

export function settingsOf(plan: ExportPlan): ExportSettings {
  if (typeof plan !== 'object' || plan === null || typeof plan.spec !== 'object')
    throw badSpec('InvalidPlan', 'the plan has no spec');
  if (typeof plan.name !== 'string' || !NAME.test(plan.name))
    throw badSpec('InvalidPlan', `name: not an object name: ${String(plan.name)}`);
  if (typeof plan.uid !== 'string' || !/^[A-Za-z0-9-]+$/.test(plan.uid))
    throw badSpec('InvalidPlan', `uid: not a uid: ${String(plan.uid)}`);
  // The spec as the API server holds it: checked by the CRD's schema, defaults filled in.
  const resource = withSchemaDefaults('ExportJob', {
    apiVersion,
    kind: 'ExportJob',
    metadata: { name: plan.name, namespace: plan.namespace ?? 'default' },
    spec: plan.spec,
  });
  const issues = new ResourceValidator().check(resource);
  if (issues.length > 0)
    throw badSpec('InvalidSpec', issues.map((i) => `${i.field}: ${i.message}`).join('; '));
  const spec = resource.spec;
  const from = instant(plan.from, 'from');
  const to = instant(plan.to, 'to');
  if (to.ms <= from.ms)
    throw badSpec(
      'BadTimeRange',
      `the time range is empty: to ${to.iso} is not after from ${from.iso}`,
    );
  const maxFileSize = quantityBytes(spec.maxFileSize);
  if (maxFileSize === undefined)
    throw badSpec('InvalidSpec', `maxFileSize: not a size: ${String(spec.maxFileSize)}`);
  const dataTypes = [...new Set(spec.dataTypes)].sort((a, b) =>
    a === b ? 0 : a === 'logs' ? -1 : 1,
  );
  const mapping = dataTypes.includes('logs') ? logsMapping(plan) : undefined;
  const filters = filtersOf(spec.filters ?? {});
  const settings: Omit<ExportSettings, 'digest'> = {
    plan,
    name: plan.name,
    uid: plan.uid,
    from,
    to,
    dataTypes,
    format: spec.format!,
    compression: spec.compression!,
    batchSize: spec.batchSize!,
    maxFileSize,
    timestamps: spec.transform!.timestamps!,
    hashAddresses: spec.transform!.hashAddresses!,
    filters,
    mapping,
    sslMode: plan.logs?.source.sslMode,
    anomalySources: dataTypes.includes('anomalies') ? (plan.anomalies ?? []) : [],
  };
  return { ...settings, digest: digestOf(settings) };
}

/** The spec as the manifest records it (no secrets: the hash key's Secret is only named). */
export function specSummary(s: ExportSettings): Record<string, unknown> {
  return {
    dataTypes: s.dataTypes,
    format: s.format,
    compression: s.compression,
    batchSize: s.batchSize,
    maxFileSize: s.maxFileSize,
    filters: s.plan.spec.filters ?? {},
    transform: {
      timestamps: s.timestamps,
      hashAddresses: s.hashAddresses,
      ...(s.plan.spec.transform?.hashKeySecretRef
        ? { hashKeySecretRef: s.plan.spec.transform.hashKeySecretRef }
        : {}),
    },
    ...(s.mapping ? { logsSource: { table: s.mapping.table, columns: s.mapping.columns } } : {}),
    ...(s.dataTypes.includes('anomalies')
      ? {
          anomalySources: s.anomalySources.map((a) => ({
            agent: a.agent,
            kind: a.kind,
            pod: a.pod,
          })),
        }
      : {}),
  };
}
