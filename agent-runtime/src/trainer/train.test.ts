// Training input in every shape ExportJob and routers produce, and the trainer's output: one
// feature extractor whatever the shape, determinism, the manifest, and a model that loads.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import { builtInAgents } from '../agents/registry.js';
import { checkManifest } from '../model/manifest.js';
import { LoadedModel } from '../model/model.js';
import { SyslogParser } from '../parse/syslog.js';
import { readRecords, sniff, type InputStats } from './records.js';
import { quantile, train, type TrainOptions } from './train.js';
import { extractWindows } from './windows.js';

const sampleFile = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../data/openwrt/logread-sample.log',
);
let dir: string;
let records: {
  id: number;
  timestamp: string;
  host: string;
  level: string | null;
  program: string | null;
  message: string;
}[];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-train-'));
  const parser = new SyslogParser({ referenceTime: new Date('2026-11-23T12:00:00Z') });
  records = (await readFile(sampleFile, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line, i) => {
      const o = parser.parse(line);
      if (!o.ok) throw new Error(o.reason);
      return { id: i + 1, ...o.record, host: 'gw-home' };
    });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const csvField = (v: string | number | null): string => {
  const s = v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

async function collect(files: string[], stats?: InputStats): Promise<string[]> {
  const out: string[] = [];
  for await (const batch of readRecords(files, { stats, defaultHost: 'gw-home' }))
    for (const l of batch)
      out.push(`${l.time} ${l.device} ${l.record.program} ${l.record.message}`);
  return out;
}

test('the format is told from the first bytes', () => {
  expect(sniff('{"timestamp": 1}')).toBe('jsonl');
  expect(sniff('\uFEFF  [{"a":1}]')).toBe('json');
  expect(sniff('id,device_id,timestamp,log_level,process_name,message\n1,...')).toBe('csv');
  expect(sniff('"timestamp","msg"\n')).toBe('csv');
  expect(sniff('Thu Nov 12 13:20:06 2020 daemon.info dnsmasq[1]: x, y')).toBe('syslog');
  expect(sniff('')).toBe('syslog');
});

test('JSONL, JSON, CSV and gzip give the same records as the raw log', async () => {
  const jsonl = path.join(dir, 'export.jsonl');
  await writeFile(jsonl, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const json = path.join(dir, 'export.json');
  await writeFile(json, JSON.stringify(records));
  // The log_entries column names, RFC 4180 quoting (the sample has commas and quotes).
  const csv = path.join(dir, 'export.csv');
  await writeFile(
    csv,
    ['id,device_id,timestamp,log_level,process_name,message']
      .concat(
        records.map((r) =>
          [r.id, r.host, r.timestamp, r.level, r.program, r.message].map(csvField).join(','),
        ),
      )
      .join('\r\n'),
  );
  const gz = path.join(dir, 'export.csv.gz');
  await writeFile(gz, gzipSync(await readFile(csv)));
  const rawGz = path.join(dir, 'raw.log.gz');
  await writeFile(rawGz, gzipSync(await readFile(sampleFile)));

  const raw = await collect([sampleFile]);
  expect(raw).toHaveLength(records.length);
  expect(records.some((r) => r.message.includes(','))).toBe(true);
  for (const file of [jsonl, json, csv, gz, rawGz]) expect(await collect([file])).toEqual(raw);
  // Several files are read in order, one after the other.
  expect(await collect([jsonl, csv])).toEqual([...raw, ...raw]);
});

test('unreadable records are counted and skipped, never fatal', async () => {
  const file = path.join(dir, 'bad.jsonl');
  await writeFile(
    file,
    [
      JSON.stringify(records[0]),
      '{not json',
      JSON.stringify({ message: 'no time' }),
      JSON.stringify({ timestamp: 'yesterday', message: 'bad time' }),
      '[1, 2]',
      JSON.stringify(records[1]),
    ].join('\n'),
  );
  const stats: InputStats = { records: 0, unreadable: 0 };
  expect(await collect([file], stats)).toHaveLength(2);
  expect(stats).toEqual({ records: 6, unreadable: 4 });
});

const options = (out: string, overrides: Partial<TrainOptions> = {}): TrainOptions => ({
  agent: 'template',
  inputs: [sampleFile],
  out,
  trees: 50,
  sampleSize: 64,
  contamination: 0.05,
  seed: 7,
  windowMs: 60_000,
  defaultHost: 'gw-home',
  ...overrides,
});

test('train: the agent’s own windows, a deterministic model, a manifest the loader accepts', async () => {
  const a = await train(options(path.join(dir, 'a')));
  const b = await train(options(path.join(dir, 'b')));
  const c = await train(options(path.join(dir, 'c'), { seed: 8 }));
  expect(a.manifest.sha256).toBe(b.manifest.sha256);
  expect(c.manifest.sha256).not.toBe(a.manifest.sha256);
  const bytes = await readFile(path.join(dir, 'a', 'model.onnx'));
  expect(createHash('sha256').update(bytes).digest('hex')).toBe(a.manifest.sha256);

  // The same features the running agent's engine computes over the same lines.
  const set = await extractWindows(
    builtInAgents.template,
    readRecords([sampleFile], { defaultHost: 'gw-home' }),
    60_000,
  );
  expect(a.manifest.features).toEqual(set.features);
  expect(a.manifest.trainingRows).toBe(set.rows.length);
  expect(a.windows).toBeGreaterThan(50);

  const manifest = checkManifest(
    JSON.parse(await readFile(path.join(dir, 'a', 'manifest.json'), 'utf8')),
    'manifest.json',
  );
  expect(manifest.version).toBe(`template-${a.manifest.sha256.slice(0, 12)}`);
  expect(Object.keys(manifest.summary!)).toEqual(set.features);
  expect(manifest.summary!.lines!.quantiles).toHaveLength(101);
  expect(manifest.timeRange!.from < manifest.timeRange!.to).toBe(true);

  // It loads and scores; about `contamination` of the training windows reach the threshold.
  const model = await LoadedModel.load(path.join(dir, 'a'));
  try {
    const scores = await model.score(set.rows);
    const flagged = scores.filter((s) => s >= manifest.threshold).length / scores.length;
    expect(flagged).toBeGreaterThan(0.02);
    expect(flagged).toBeLessThan(0.1);
  } finally {
    await model.retire();
  }
});

test('too little input to learn from is a clear error', async () => {
  const one = path.join(dir, 'one.log');
  await writeFile(one, (await readFile(sampleFile, 'utf8')).split('\n')[0] + '\n');
  await expect(train(options(path.join(dir, 'none'), { inputs: [one] }))).rejects.toThrow(
    /only 1 template window\(s\) in the input/,
  );
});

test('quantile interpolates as numpy does', () => {
  expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
  expect(quantile([1, 2, 3, 4], 0)).toBe(1);
  expect(quantile([1, 2, 3, 4], 1)).toBe(4);
  expect(quantile([5], 0.99)).toBe(5);
});
