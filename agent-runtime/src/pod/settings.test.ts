import type { AnalysisAgentSpec } from '../../../api/src/generated/types.js';
import { specSettings } from './settings.js';

const spec = (extra: Partial<AnalysisAgentSpec> = {}): AnalysisAgentSpec =>
  ({ agent: 'auth', source: {}, ...extra }) as AnalysisAgentSpec;

test("an agent's settings take the CRD's defaults where the spec says nothing", () => {
  expect(specSettings(spec())).toEqual({
    intervalMs: 5 * 60_000,
    paused: false,
    preset: 'log_entries',
    batchSize: 5000,
    sslMode: 'verify-full',
    storeSeverity: 2,
    alertSeverity: 4,
    scoreThreshold: 0.8,
    cooldownMs: 15 * 60_000,
    retentionMs: 720 * 3_600_000,
    cacheKeyPrefix: 'edgewarden:',
    sourceKey: 'log_entries:',
    alertmanager: { resolveAfterMs: 3_600_000 },
  });
});

test('what the spec says wins, and the spec is left as it is', () => {
  const given = spec({
    interval: '30s',
    source: {
      secretRef: { name: 'pg' },
      preset: 'SystemEvents',
      table: 'syslog.events',
      backfill: '24h',
    },
    thresholds: { alertSeverity: 'critical' },
    notifications: { cooldown: '1h' },
    cache: { keyPrefix: 'site-a:' },
  });
  const before = structuredClone(given);
  expect(specSettings(given)).toMatchObject({
    intervalMs: 30_000,
    preset: 'SystemEvents',
    backfill: '24h',
    backfillMs: 24 * 3_600_000,
    alertSeverity: 5,
    storeSeverity: 2,
    cooldownMs: 3_600_000,
    cacheKeyPrefix: 'site-a:',
    sourceKey: 'SystemEvents:syslog.events',
  });
  expect(given).toEqual(before);
});

test("Alertmanager's settings come from spec.notifications.alertmanager, resolveAfter defaulted", () => {
  const given = spec({
    notifications: {
      alertmanager: {
        url: 'http://alertmanager.monitoring:9093',
        runbookBaseUrl: 'https://wiki.example.net/runbooks',
      },
    },
  });
  expect(specSettings(given).alertmanager).toEqual({
    url: 'http://alertmanager.monitoring:9093',
    resolveAfterMs: 3_600_000,
    runbookBaseUrl: 'https://wiki.example.net/runbooks',
  });
  const later = spec({ notifications: { alertmanager: { resolveAfter: '30m' } } });
  expect(specSettings(later).alertmanager).toEqual({ resolveAfterMs: 30 * 60_000 });
});
