import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';

import { SyslogParser, type LogRecord } from './syslog.js';

const sample = readFileSync(
  path.resolve(
    path.dirname(fileURLToPath(import.meta.url)),
    '../../data/openwrt/logread-sample.log',
  ),
  'utf8',
);
const sampleLines = sample.split('\n').filter((l) => l.length > 0);
const reference = new Date('2026-11-23T12:00:00Z');

function parsed(line: string, parser = new SyslogParser({ referenceTime: reference })): LogRecord {
  const outcome = parser.parse(line);
  if (!outcome.ok) throw new Error(`unreadable: ${outcome.reason}: ${line}`);
  return outcome.record;
}

describe('the real OpenWrt sample', () => {
  test('every one of its 707 lines parses', () => {
    const parser = new SyslogParser({ referenceTime: reference, defaultHost: 'gw' });
    const failures = sampleLines
      .map((line, i) => ({ i, outcome: parser.parse(line) }))
      .filter((r) => !r.outcome.ok);
    expect(sampleLines).toHaveLength(707);
    expect(failures).toEqual([]);
  });

  test('programs, pids, levels and facilities come out as logread wrote them', () => {
    const counts = new Map<string, number>();
    const parser = new SyslogParser({ referenceTime: reference });
    for (const line of sampleLines) {
      const outcome = parser.parse(line);
      if (outcome.ok)
        counts.set(
          outcome.record.program ?? '(none)',
          (counts.get(outcome.record.program ?? '(none)') ?? 0) + 1,
        );
    }
    // The sample's README counts these by program.
    expect(counts.get('hostapd')).toBe(315);
    expect(counts.get('dnsmasq-dhcp')).toBe(187);
    expect(counts.get('dnsmasq')).toBe(52);
    expect(counts.get('netifd')).toBe(23);
    expect(counts.get('dropbear')).toBe(3);
  });

  test('a logread line', () => {
    expect(
      parsed(
        'Thu Nov 12 13:20:08 2020 daemon.info dnsmasq[728]: started, version 2.80 cachesize 150',
      ),
    ).toEqual({
      timestamp: '2020-11-12T13:20:08.000Z',
      host: null,
      facility: 'daemon',
      level: 'info',
      program: 'dnsmasq',
      pid: 728,
      message: 'started, version 2.80 cachesize 150',
    });
  });

  test('a logread line with an empty tag, and the warn level spelt out', () => {
    expect(
      parsed('Thu Nov 12 13:20:11 2020 user.notice : Added device handler type: bridge'),
    ).toMatchObject({
      program: null,
      pid: null,
      message: 'Added device handler type: bridge',
    });
    expect(
      parsed(
        'Thu Nov 12 13:20:06 2020 kern.warn kernel: [    0.788013] m25p80 spi0.0: found gd25q32',
      ),
    ).toMatchObject({
      level: 'warning',
      program: 'kernel',
      message: '[    0.788013] m25p80 spi0.0: found gd25q32',
    });
  });
});

describe('remote and collector shapes', () => {
  test('RFC 3164 with <PRI>, a host and no year', () => {
    expect(
      parsed(
        "<86>Nov 23 10:15:01 gw-home dropbear[1514]: Bad password attempt for 'root' from 192.0.2.7:52144",
      ),
    ).toEqual({
      timestamp: '2026-11-23T10:15:01.000Z',
      host: 'gw-home',
      facility: 'authpriv',
      level: 'info',
      program: 'dropbear',
      pid: 1514,
      message: "Bad password attempt for 'root' from 192.0.2.7:52144",
    });
  });

  test('RFC 3164 as OpenWrt may send it: no host, kernel prefix', () => {
    expect(
      parsed(
        '<4>Nov 23 10:15:01 kernel: [12345.678] drop wan in: IN=eth0 SRC=198.51.100.4 DST=203.0.113.1 PROTO=TCP DPT=22',
      ),
    ).toMatchObject({
      host: null,
      facility: 'kern',
      level: 'warning',
      program: 'kernel',
      message: '[12345.678] drop wan in: IN=eth0 SRC=198.51.100.4 DST=203.0.113.1 PROTO=TCP DPT=22',
    });
  });

  test('RFC 3164 with a single-digit day padded by a space', () => {
    expect(
      parsed('<30>Nov  3 07:00:00 ap-attic hostapd: wlan0: AP-STA-CONNECTED 00:11:22:33:44:55')
        .timestamp,
    ).toBe('2026-11-03T07:00:00.000Z');
  });

  test('RFC 3164 without <PRI>, as in a traditional /var/log/syslog', () => {
    expect(parsed("Nov 23 10:15:01 gw-home netifd: Interface 'wan' is now down")).toMatchObject({
      host: 'gw-home',
      facility: null,
      level: null,
      program: 'netifd',
      message: "Interface 'wan' is now down",
    });
  });

  test('an RFC 3339 timestamp rewritten by a collector, with microseconds and an offset', () => {
    expect(
      parsed('<30>2026-01-05T13:54:43.262668+01:00 gw-home hostapd: wlan0: AP-ENABLED'),
    ).toMatchObject({
      timestamp: '2026-01-05T12:54:43.262Z',
      host: 'gw-home',
      program: 'hostapd',
      message: 'wlan0: AP-ENABLED',
    });
    expect(parsed('2026-01-05T13:54:43Z gw-home procd: - init complete -').timestamp).toBe(
      '2026-01-05T13:54:43.000Z',
    );
  });

  test('RFC 5424, with structured data and a BOM', () => {
    expect(
      parsed(
        '<30>1 2026-01-05T12:54:43.262Z gw-home hostapd 1234 - [meta x="1"] \uFEFFwlan0: AP-ENABLED',
      ),
    ).toEqual({
      timestamp: '2026-01-05T12:54:43.262Z',
      host: 'gw-home',
      facility: 'daemon',
      level: 'info',
      program: 'hostapd',
      pid: 1234,
      message: 'wlan0: AP-ENABLED',
    });
    expect(parsed('<13>1 2026-01-05T12:54:43Z - - - - -')).toMatchObject({
      host: null,
      program: null,
      message: '',
    });
  });

  test('a line ending in CR or NUL (log_trailer_null) reads the same', () => {
    const line = '<30>Nov 23 10:15:01 gw-home hostapd: wlan0: AP-ENABLED';
    expect(parsed(`${line}\r`)).toEqual(parsed(line));
    expect(parsed(`${line}\0`)).toEqual(parsed(line));
  });
});

describe('time', () => {
  test('a line with no year lands in the reference year', () => {
    const parser = new SyslogParser({ referenceTime: new Date('2027-01-02T00:10:00Z') });
    expect(parsed('<30>Jan  1 23:59:59 gw x: y', parser).timestamp).toBe(
      '2027-01-01T23:59:59.000Z',
    );
  });

  test('a December line read in early January lands in the year before', () => {
    const parser = new SyslogParser({ referenceTime: new Date('2027-01-02T00:10:00Z') });
    expect(parsed('<30>Dec 31 23:59:59 gw x: y', parser).timestamp).toBe(
      '2026-12-31T23:59:59.000Z',
    );
  });

  test('a zone-less time is read in the configured zone, daylight saving included', () => {
    const parser = new SyslogParser({ referenceTime: reference, timeZone: 'Europe/Berlin' });
    expect(parsed('Thu Jan 15 13:00:00 2026 daemon.info x: y', parser).timestamp).toBe(
      '2026-01-15T12:00:00.000Z',
    );
    expect(parsed('Wed Jul 15 13:00:00 2026 daemon.info x: y', parser).timestamp).toBe(
      '2026-07-15T11:00:00.000Z',
    );
  });

  test('the minute cache gives every second of a line stream its own instant', () => {
    // One parser reads an ordered stream (as it does in production, where the per-minute
    // cache is hit), and each line's instant must show the same wall clock in its zone.
    const MON = [
      'Jan',
      'Feb',
      'Mar',
      'Apr',
      'May',
      'Jun',
      'Jul',
      'Aug',
      'Sep',
      'Oct',
      'Nov',
      'Dec',
    ];
    fc.assert(
      fc.property(
        fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata'),
        fc.integer({ min: Date.UTC(2001, 0, 1), max: Date.UTC(2035, 0, 1) }),
        fc.array(fc.integer({ min: 0, max: 90_000 }), { minLength: 1, maxLength: 60 }),
        (zone, start, steps) => {
          const parser = new SyslogParser({ referenceTime: reference, timeZone: zone });
          const wall = new Intl.DateTimeFormat('en-US', {
            timeZone: zone,
            hourCycle: 'h23',
            year: 'numeric',
            month: 'numeric',
            day: 'numeric',
            hour: 'numeric',
            minute: 'numeric',
            second: 'numeric',
            weekday: 'short',
          });
          const partsOf = (ms: number): Record<string, string> =>
            Object.fromEntries(wall.formatToParts(ms).map((p) => [p.type, p.value]));
          let instant = start - (start % 1000);
          for (const step of steps) {
            instant += step - (step % 1000);
            const p = partsOf(instant);
            const pad = (v: string | undefined): string => (v ?? '').padStart(2, '0');
            const line = `${p.weekday} ${MON[Number(p.month) - 1]} ${pad(p.day)} ${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)} ${p.year} daemon.info x: y`;
            const outcome = parser.parse(line);
            if (!outcome.ok) throw new Error(`unreadable: ${line}`);
            expect(outcome.time).toBe(Date.parse(outcome.record.timestamp));
            expect(partsOf(outcome.time)).toEqual(p);
            // Outside a repeated (fall-back) hour, the instant is the one the line was made from.
            expect([0, 3_600_000]).toContain(Math.abs(outcome.time - instant));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test('a year-less minute astride the inference boundary is split second by second', () => {
    // Lines up to a day past the reference are this year; later ones are last year's.
    const parser = new SyslogParser({ referenceTime: new Date('2027-01-01T00:00:30Z') });
    expect(parsed('<30>Jan  2 00:00:29 gw x: y', parser).timestamp).toBe(
      '2027-01-02T00:00:29.000Z',
    );
    expect(parsed('<30>Jan  2 00:00:30 gw x: y', parser).timestamp).toBe(
      '2027-01-02T00:00:30.000Z',
    );
    expect(parsed('<30>Jan  2 00:00:31 gw x: y', parser).timestamp).toBe(
      '2026-01-02T00:00:31.000Z',
    );
    expect(parsed('<30>Jan  2 00:01:00 gw x: y', parser).timestamp).toBe(
      '2026-01-02T00:01:00.000Z',
    );
  });

  test('a leap second stays in its minute', () => {
    const parser = new SyslogParser({ referenceTime: reference });
    expect(parsed('<30>Jun 30 23:59:59 gw x: y', parser).timestamp).toBe(
      '2026-06-30T23:59:59.000Z',
    );
    expect(parsed('<30>Jun 30 23:59:60 gw x: y', parser).timestamp).toBe(
      '2026-06-30T23:59:59.000Z',
    );
  });

  test('an unknown time zone is a configuration error at construction', () => {
    expect(() => new SyslogParser({ timeZone: 'Mars/Olympus' })).toThrow(RangeError);
  });

  test('a date that does not exist is unreadable, not moved', () => {
    expect(new SyslogParser().parse('Thu Feb 31 13:00:00 2026 daemon.info x: y')).toEqual({
      ok: false,
      reason: 'invalid date',
    });
  });
});

describe('unreadable lines', () => {
  test.each([
    ['', 'empty line'],
    ['   ', 'empty line'],
    ['hello world', 'unrecognised line'],
    ['<999>Nov 23 10:15:01 gw x: y', 'malformed <PRI>'],
    ['<30 Nov 23 10:15:01 gw x: y', 'malformed <PRI>'],
    ['<30>1 garbage', 'malformed RFC 5424 header'],
    ['2026-13-45T99:00:00Z gw x: y', 'invalid timestamp'],
    ['Thu Nov 12 13:20:06 2020 nofacility.info x: y', 'unknown facility or level'],
  ])('%j is reported as %s', (line, reason) => {
    expect(new SyslogParser().parse(line)).toEqual({ ok: false, reason });
  });

  test('a huge line is refused rather than scanned', () => {
    expect(new SyslogParser().parse('x'.repeat(70_000))).toEqual({
      ok: false,
      reason: 'line longer than 65536 characters',
    });
  });
});

describe('fuzz: no input makes the parser throw', () => {
  const parser = new SyslogParser({ referenceTime: reference });
  // parse() has a net that turns a thrown error into an unreadable line; the logic under it
  // must never need it, so a 'parser error' outcome fails these tests.
  const valid = (o: ReturnType<SyslogParser['parse']>): boolean =>
    o.ok
      ? typeof o.record.message === 'string' && !Number.isNaN(Date.parse(o.record.timestamp))
      : !o.reason.startsWith('parser error');

  test('random strings, unicode included', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => valid(parser.parse(s))),
      { numRuns: 5000 },
    );
  });

  test('every prefix of every real line', () => {
    const bad: string[] = [];
    for (const line of sampleLines)
      for (let n = 0; n <= line.length; n++)
        if (!valid(parser.parse(line.slice(0, n)))) bad.push(line.slice(0, n));
    expect(bad).toEqual([]);
  });

  test('real lines with random characters replaced', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...sampleLines),
        fc.array(fc.tuple(fc.nat(), fc.string({ unit: 'binary', minLength: 1, maxLength: 3 })), {
          maxLength: 6,
        }),
        (line, edits) => {
          let s = line;
          for (const [at, text] of edits) {
            const i = at % (s.length + 1);
            s = s.slice(0, i) + text + s.slice(i + 1);
          }
          return valid(parser.parse(s)) && valid(parser.parse(`<${at(edits)}>${s}`));
        },
      ),
      { numRuns: 3000 },
    );
  });
});

const at = (edits: [number, string][]): number => (edits[0]?.[0] ?? 13) % 200;
