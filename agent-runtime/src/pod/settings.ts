// What a running agent takes from its AnalysisAgent spec, with every default the CRD declares
// filled in from the schema itself (api/src/defaults.ts), so that no default is written here a
// second time. Absent `notifications` and `cache` count as empty: their fields' defaults (the
// alert cooldown, which also spaces stored repeats, Alertmanager's resolveAfter, and the Redis
// key prefix) still apply.
import { withSchemaDefaults } from '../../../api/src/defaults.js';
import { parseDuration } from '../../../api/src/duration.js';
import type {
  AnalysisAgentSpec,
  AnalysisAgentSpecNotifications,
} from '../../../api/src/generated/types.js';
import { severityRank } from '../http/anomalyQuery.js';
import type { SslMode } from '../source/postgresSource.js';
import type { PresetName } from '../source/presets.js';

export interface SpecSettings {
  intervalMs: number;
  paused: boolean;
  preset: PresetName;
  batchSize: number;
  sslMode: SslMode;
  /** spec.source.backfill as given (e.g. "24h"), and in milliseconds; unset: start at the end. */
  backfill?: string;
  backfillMs?: number;
  /** Least severity rank stored, and least alerted (1 info ... 5 critical). */
  storeSeverity: number;
  alertSeverity: number;
  /** The threshold of a model that sets none itself. */
  scoreThreshold: number;
  cooldownMs: number;
  retentionMs: number;
  cacheKeyPrefix: string;
  /** Names the source's watermark (and the rest of its progress) in the anomaly store. */
  sourceKey: string;
  /** spec.notifications.alertmanager: its url (the env's EDGEWARDEN_ALERTMANAGER_URL otherwise). */
  alertmanager: { url?: string; resolveAfterMs: number; runbookBaseUrl?: string };
}

/** The spec's settings, defaults filled from the schema; the spec itself is left as it is. */
export function specSettings(spec: AnalysisAgentSpec): SpecSettings {
  const filled = withSchemaDefaults('AnalysisAgent', {
    ...spec,
    // alertmanager too, so resolveAfter's default applies to the operator's --alertmanager-url.
    notifications: { ...spec.notifications, alertmanager: spec.notifications?.alertmanager ?? {} },
    cache: spec.cache ?? {},
  });
  const { source, thresholds, notifications, storage, cache } = filled;
  const duration = (text: string | undefined): number => parseDuration(text!)!;
  const backfillMs = source.backfill === undefined ? undefined : parseDuration(source.backfill);
  return {
    intervalMs: duration(filled.interval),
    paused: filled.paused!,
    preset: source.preset!,
    batchSize: source.batchSize!,
    sslMode: source.sslMode!,
    ...(source.backfill !== undefined ? { backfill: source.backfill } : {}),
    ...(backfillMs !== undefined ? { backfillMs } : {}),
    storeSeverity: severityRank(thresholds!.storeSeverity!),
    alertSeverity: severityRank(thresholds!.alertSeverity!),
    scoreThreshold: thresholds!.score!,
    cooldownMs: duration(notifications.cooldown),
    retentionMs: duration(storage!.retention),
    cacheKeyPrefix: cache.keyPrefix!,
    sourceKey: `${source.preset!}:${source.table ?? ''}`,
    alertmanager: alertmanagerSettings(notifications.alertmanager),
  };
}

function alertmanagerSettings(
  am: NonNullable<AnalysisAgentSpecNotifications['alertmanager']>,
): SpecSettings['alertmanager'] {
  return {
    ...(am.url !== undefined ? { url: am.url } : {}),
    resolveAfterMs: parseDuration(am.resolveAfter!)!,
    ...(am.runbookBaseUrl !== undefined ? { runbookBaseUrl: am.runbookBaseUrl } : {}),
  };
}
