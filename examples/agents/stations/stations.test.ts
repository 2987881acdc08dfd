// The example agent on real OpenWrt logs (agent-runtime/data/openwrt/logread-sample.log, 707
// lines of logread from two routers), read the way `edgewarden train` and the running agent
// read lines, through the product's own engine. See docs/writing-an-agent.md.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { AnalysisEngine, type WindowFeatures } from '../../../agent-runtime/src/agents/engine.js';
import type { Anomaly, ObservedLine } from '../../../agent-runtime/src/agents/types.js';
import { SyslogParser } from '../../../agent-runtime/src/parse/syslog.js';
import { readRecords } from '../../../agent-runtime/src/trainer/records.js';
import { extractWindows } from '../../../agent-runtime/src/trainer/windows.js';
import { ResourceValidator } from '../../../api/src/validate.js';
import { SHORT_SESSION_BURST, stationsAgent } from './stations.js';

const SAMPLE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../agent-runtime/data/openwrt/logread-sample.log',
);
const WINDOW_MS = 5 * 60_000;
const sample = readFileSync(SAMPLE, 'utf8').split('\n').filter(Boolean);

/** Every line of the sample as the agent sees it: the reader `edgewarden train` uses. */
async function sampleLines(): Promise<ObservedLine[]> {
  const lines: ObservedLine[] = [];
  for await (const batch of readRecords([SAMPLE])) lines.push(...batch);
  return lines;
}

/** Pushes the lines, then closes every open window, as the end of an agent's cycle does. */
function analyse(engine: AnalysisEngine, lines: ObservedLine[]): Anomaly[] {
  return [...lines.flatMap((l) => engine.push(l)), ...engine.flush()];
}

function engineWithWindows(): { engine: AnalysisEngine; windows: WindowFeatures[] } {
  const windows: WindowFeatures[] = [];
  const engine = new AnalysisEngine([stationsAgent], {
    windowMs: WINDOW_MS,
    onWindow: (w) => windows.push(w),
  });
  return { engine, windows };
}

const windowAt = (windows: WindowFeatures[], start: string): WindowFeatures | undefined =>
  windows.find((w) => w.windowStart === start);

describe('the stations example agent on the real sample', () => {
  test('counts every session hostapd logged, and measures them across windows', async () => {
    const { engine, windows } = engineWithWindows();
    const found = analyse(engine, await sampleLines());

    const total = (feature: string): number =>
      windows.reduce((sum, w) => sum + (w.features[feature] ?? 0), 0);
    // As many sessions begin as the file has AP-STA-CONNECTED lines (46), and every one of its
    // 36 AP-STA-DISCONNECTED lines ends a session whose start the agent remembered.
    const count = (text: string): number => sample.filter((l) => l.includes(text)).length;
    expect(total('sessions_started')).toBe(count('AP-STA-CONNECTED'));
    expect(total('sessions_ended')).toBe(count('AP-STA-DISCONNECTED'));
    expect(total('ack_losses')).toBe(count('excessive missing ACKs'));

    // Mon Jul 17 00:43:01 AP-STA-CONNECTED f2:60:d2:4c:60:05, 00:43:41 AP-STA-DISCONNECTED:
    // a real 40-second session, short.
    expect(windowAt(windows, '2023-07-17T00:40:00.000Z')?.features).toEqual({
      sessions_started: 2,
      sessions_ended: 1,
      short_sessions: 1,
      ack_losses: 0,
      mean_session_seconds: 40,
    });
    // Connected 01:35:44, dropped at 10:16:38 for missing ACKs: 8 h 40 min 54 s later, about a
    // hundred windows on. Only the device's memory links the two lines.
    expect(windowAt(windows, '2023-07-17T10:15:00.000Z')?.features).toMatchObject({
      sessions_ended: 1,
      ack_losses: 1,
      mean_session_seconds: 8 * 3600 + 40 * 60 + 54,
    });
    // Real background: two short sessions on different days are no burst.
    expect(total('short_sessions')).toBe(2);
    expect(found).toEqual([]);
  });

  test('finds a station that keeps losing its session, from replayed real lines', () => {
    // The real pair above, replayed a minute apart within one window (00:40:05, 00:41:05, ...):
    // each time the station joins and is gone 40 s later.
    const connect = sample.find(
      (l) => l.startsWith('Mon Jul 17 00:43:01 2023') && l.includes('AP-STA-CONNECTED'),
    )!;
    const disconnect = sample.find(
      (l) => l.startsWith('Mon Jul 17 00:43:41 2023') && l.includes('AP-STA-DISCONNECTED'),
    )!;
    expect(connect).toContain('f2:60:d2:4c:60:05');
    const parser = new SyslogParser();
    const replay = (times: number): ObservedLine[] =>
      Array.from({ length: times }, (_, i) =>
        [connect, disconnect].map((line, j) => {
          const at = Date.parse('2023-07-17T00:40:05Z') + i * 60_000 + j * 40_000;
          const parsed = parser.parse(restamp(line, at));
          if (!parsed.ok) throw new Error(parsed.reason);
          return {
            ref: `replay-${i}-${j}`,
            device: 'gw',
            time: parsed.time,
            record: parsed.record,
          };
        }),
      ).flat();

    const below = analyse(
      new AnalysisEngine([stationsAgent], { windowMs: WINDOW_MS }),
      replay(SHORT_SESSION_BURST - 1),
    );
    expect(below).toEqual([]);

    const found = analyse(new AnalysisEngine([stationsAgent], { windowMs: WINDOW_MS }), replay(4));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      agent: 'stations',
      device: 'gw',
      type: 'short_session_burst',
      severity: 3,
      windowStart: '2023-07-17T00:40:00.000Z',
      features: { short_sessions: 4 },
      evidence: ['replay-0-1', 'replay-1-1', 'replay-2-1', 'replay-3-1'],
    });
    expect(found[0]!.description).toContain('f2:60:d2:4c:60:05');
  });

  test('a restarted agent still measures the sessions that were open when it stopped', async () => {
    const lines = await sampleLines();
    // Stop after the 01:35:44 connect and before the 10:16:38 disconnect, as a pod restarted
    // between two cycles would: the cycle closes its windows and saves the engine's state.
    const stop = lines.findIndex((l) => l.record.timestamp.startsWith('2023-07-17T07:'));
    expect(stop).toBeGreaterThan(0);

    const steady = engineWithWindows();
    analyse(steady.engine, lines.slice(0, stop));
    analyse(steady.engine, lines.slice(stop));

    const before = engineWithWindows();
    analyse(before.engine, lines.slice(0, stop));
    const saved = JSON.parse(JSON.stringify(before.engine.saveState())) as unknown;
    const restarted = engineWithWindows();
    restarted.engine.loadState(saved);
    analyse(restarted.engine, lines.slice(stop));
    expect(restarted.windows.map((w) => w.features)).toEqual(
      steady.windows.slice(before.windows.length).map((w) => w.features),
    );
    expect(windowAt(restarted.windows, '2023-07-17T10:15:00.000Z')?.features.sessions_ended).toBe(
      1,
    );

    // Without the saved memory that session's end cannot be measured: the test can tell.
    const forgetful = engineWithWindows();
    analyse(forgetful.engine, lines.slice(stop));
    expect(windowAt(forgetful.windows, '2023-07-17T10:15:00.000Z')?.features.sessions_ended).toBe(
      0,
    );
    expect(() =>
      restarted.engine.loadState({
        version: 1,
        agents: { stations: { gw: { memory: { a: 1 }, baselines: {} } } },
      }),
    ).toThrow(/stations memory/);
  });

  test('its features are what a model would be trained on, in the declared order', async () => {
    // extractWindows is what `edgewarden train` and `edgewarden features` call.
    const set = await extractWindows(stationsAgent, readRecords([SAMPLE]), WINDOW_MS);
    expect(set.features).toEqual([...stationsAgent.features]);
    expect(set.rows.length).toBeGreaterThan(50);
    for (const row of set.rows) expect(row).toHaveLength(stationsAgent.features.length);
  });

  test('the API takes its feature names, but not its name until the CRD enum lists it', () => {
    const validator = new ResourceValidator();
    const deployment = (agent: string) => ({
      apiVersion: 'edgewarden.io/v1alpha1',
      kind: 'ModelDeployment',
      metadata: { name: 'stations-model' },
      spec: {
        agent,
        version: '2026.11.1',
        source: { configMap: { name: 'stations-2026-11-1', key: 'model.onnx' } },
        features: [...stationsAgent.features],
      },
    });
    expect(validator.check(deployment('wifi'))).toEqual([]);
    expect(validator.check(deployment('stations'))).toEqual([
      expect.objectContaining({
        field: 'spec.agent',
        message: expect.stringContaining('Unsupported value: "stations"') as unknown,
      }),
    ]);
  });
});

/** The line with its logread stamp (`Mon Jul 17 00:43:01 2023`) moved to `ms` (UTC). */
function restamp(line: string, ms: number): string {
  const [weekday, day, month, year, time] = new Date(ms).toUTCString().replace(',', '').split(' ');
  return `${weekday} ${month} ${day} ${time} ${year}${line.slice('Mon Jul 17 00:43:01 2023'.length)}`;
}
