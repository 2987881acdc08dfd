// The agent's log line at its first start: where it began, and the older rows it left unread.
import { describeStart } from './sourceStart.js';

const time = '2026-12-01T10:00:00.000Z';

test('at the end of a table of old rows: how many, when, and spec.source.backfill', () => {
  expect(
    describeStart({
      time,
      from: 'end',
      rowsBefore: 1385,
      oldestBefore: '2023-07-18T02:00:00.000Z',
      newestBefore: '2023-07-22T08:55:00.000Z',
    }),
  ).toBe(
    'first start: reading the source from its end: only rows that arrive from now on; 1,385 older rows, from 2023-07-18T02:00:00.000Z to 2023-07-22T08:55:00.000Z, are not analysed: spec.source.backfill (at most 720h) has a pod that starts with an empty store read that period first',
  );
});

test('after a backfill, more rows than counted; one row; none; the beginning', () => {
  expect(
    describeStart({
      time,
      from: 'backfill',
      backfill: '24h',
      rowsBefore: 100_000,
      rowsBeforeCapped: true,
      newestBefore: '2026-11-30T09:00:00.000Z',
    }),
  ).toBe(
    'first start: reading the source from 24h before now (spec.source.backfill); more than 100,000 older rows, the newest from 2026-11-30T09:00:00.000Z, are not analysed',
  );
  expect(describeStart({ time, from: 'end', rowsBefore: 1 })).toMatch(
    /; 1 older row is not analysed:/,
  );
  expect(describeStart({ time, from: 'end', rowsBefore: 0 })).toBe(
    'first start: reading the source from its end: only rows that arrive from now on; no older rows were left unread',
  );
  expect(describeStart({ time, from: 'end' })).toBe(
    'first start: reading the source from its end: only rows that arrive from now on',
  );
  expect(describeStart({ time, from: 'beginning', rowsBefore: 0 })).toBe(
    'first start: reading the source from its first row',
  );
});
