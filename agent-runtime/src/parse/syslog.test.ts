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

describe('the kernel ring buffer, as dmesg and dmesg -r print it', () => {
  // util-linux dmesg: "[%5ld.%06ld] " before each record; dmesg -r: "<%d>[%5ld.%06ld] ".
  const crash = '[   12.345678] ath10k_pci 0000:01:00.0: firmware crashed!';

  test('a line with no <N>: the kernel, facility kern, no level, the reference time', () => {
    expect(parsed(crash)).toEqual({
      timestamp: '2026-11-23T12:00:00.000Z',
      host: null,
      facility: 'kern',
      level: null,
      program: 'kernel',
      pid: null,
      message: crash,
    });
  });

  test('a <N> prefix gives the level, and the message keeps the uptime as logread does', () => {
    const parser = new SyslogParser({ referenceTime: reference });
    const fromLogread = parsed(`Thu Nov 12 13:20:06 2020 kern.err kernel: ${crash}`, parser);
    const fromDmesg = parsed(`<3>${crash}`, parser);
    expect(fromDmesg).toEqual({ ...fromLogread, timestamp: fromDmesg.timestamp });
    expect(fromDmesg).toMatchObject({ facility: 'kern', level: 'err', program: 'kernel' });
    // The system agent reads the uptime so.
    expect(/^\[\s*(\d+)\.\d+\]/.exec(fromDmesg.message)?.[1]).toBe('12');
    expect(parsed('<0>[    0.000000] Booting Linux on physical CPU 0x0').level).toBe('emerg');
    expect(parsed('<7>[    0.000000] pid_max: default: 32768').level).toBe('debug');
  });

  test('a <N> over 7 is a whole PRI: a record a program wrote to /dev/kmsg, as logread reads it', () => {
    // logd reads /proc/kmsg, and logread prints every record from it as "kernel:", whatever
    // its facility: "user.info kernel: [    5.120000] procd: - init -".
    const parser = new SyslogParser({ referenceTime: reference });
    const viaLogread = parsed(
      'Thu Nov 12 13:20:06 2020 user.info kernel: [    5.120000] procd: - init -',
      parser,
    );
    const viaDmesg = parsed('<14>[    5.120000] procd: - init -', parser);
    expect(viaDmesg).toEqual({ ...viaLogread, timestamp: viaDmesg.timestamp });
    expect(viaDmesg).toMatchObject({
      facility: 'user',
      level: 'info',
      program: 'kernel',
      message: '[    5.120000] procd: - init -',
    });
    expect(parsed('<30>[   20.5] netifd: x')).toMatchObject({ facility: 'daemon', level: 'info' });
    expect(parsed('<191>[ 1.0] x')).toMatchObject({ facility: 'local7', level: 'debug' });
  });

  test('the time is that of the last dated line the parser read', () => {
    const parser = new SyslogParser({ referenceTime: reference, defaultHost: 'gw' });
    expect(parsed(`<4>${crash}`, parser).timestamp).toBe('2026-11-23T12:00:00.000Z');
    parsed('<30>Nov 23 10:15:01 gw-home dnsmasq[728]: started', parser);
    expect(parsed(`<4>${crash}`, parser)).toMatchObject({
      timestamp: '2026-11-23T10:15:01.000Z',
      host: 'gw',
    });
    parsed('Thu Nov 12 13:20:08 2020 daemon.info dnsmasq[728]: started', parser);
    expect(parsed(crash, parser).timestamp).toBe('2020-11-12T13:20:08.000Z');
    parsed('<30>2026-01-05T13:54:43.262Z gw-home hostapd: wlan0: AP-ENABLED', parser);
    expect(parsed(crash, parser).timestamp).toBe('2026-01-05T13:54:43.262Z');
    parsed('<30>1 2026-01-05T12:54:50Z gw-home hostapd 1234 - - wlan0: AP-DISABLED', parser);
    expect(parsed(crash, parser).timestamp).toBe('2026-01-05T12:54:50.000Z');
    // An RFC 5424 line with no time ("-") has no date of its own, and an unreadable line none.
    parsed('<13>1 - - - - - -', parser);
    parser.parse('Thu Feb 31 13:00:00 2026 daemon.info x: y');
    expect(parsed(crash, parser).timestamp).toBe('2026-01-05T12:54:50.000Z');
  });

  test.each([
    ['[12] x', 'unrecognised line'],
    ['[ 12.] x', 'unrecognised line'],
    ['[foo] bar', 'unrecognised line'],
    ['<3>[not an uptime] x', 'unrecognised line'],
    ['<3>[', 'unrecognised line'],
    ['<192>[ 1.000000] x', 'malformed <PRI>'],
  ])('%j is not a ring-buffer line: %s', (line, reason) => {
    expect(new SyslogParser().parse(line)).toEqual({ ok: false, reason });
  });
});

describe('logread lines whose start was cut off', () => {
  test('a known facility.level and a tag: read, with the last dated line time', () => {
    const parser = new SyslogParser({ referenceTime: reference, defaultHost: 'gw' });
    expect(parsed("daemon.notice netifd: Interface 'wan' is now up", parser)).toEqual({
      timestamp: '2026-11-23T12:00:00.000Z',
      host: 'gw',
      facility: 'daemon',
      level: 'notice',
      program: 'netifd',
      pid: null,
      message: "Interface 'wan' is now up",
    });
    parsed('Thu Nov 12 13:20:08 2020 daemon.info dnsmasq[728]: started', parser);
    expect(parsed('kern.info kernel: [ 12.3] foo', parser)).toEqual({
      timestamp: '2020-11-12T13:20:08.000Z',
      host: 'gw',
      facility: 'kern',
      level: 'info',
      program: 'kernel',
      pid: null,
      message: '[ 12.3] foo',
    });
    expect(parsed('2020 daemon.err odhcpd[1234]: no address to offer', parser)).toMatchObject({
      timestamp: '2020-11-12T13:20:08.000Z',
      facility: 'daemon',
      level: 'err',
      program: 'odhcpd',
      pid: 1234,
      message: 'no address to offer',
    });
    expect(parsed(':08 2020 user.warn : no tag here', parser)).toMatchObject({
      level: 'warning',
      program: null,
      message: 'no tag here',
    });
  });

  test('cut anywhere in the date of a real line, it reads as the whole line', () => {
    // logread prints ctime() (24 characters) and a space, then facility.level.
    const parser = new SyslogParser({ referenceTime: reference });
    const differ: string[] = [];
    for (const line of sampleLines)
      for (let n = 1; n <= 25; n++) {
        const whole = parser.parse(line);
        const cut = parser.parse(line.slice(n));
        if (JSON.stringify(cut) !== JSON.stringify(whole)) differ.push(line.slice(n));
      }
    expect(differ).toEqual([]);
  });

  test('cut before the weekday only, the date is whole and is read', () => {
    expect(parsed('Nov 12 13:20:06 2020 kern.info kernel: [    0.7] x')).toEqual({
      timestamp: '2020-11-12T13:20:06.000Z',
      host: null,
      facility: 'kern',
      level: 'info',
      program: 'kernel',
      pid: null,
      message: '[    0.7] x',
    });
    expect(parsed('Nov  3 13:20:06 2020 daemon.info x: y').timestamp).toBe(
      '2020-11-03T13:20:06.000Z',
    );
    expect(
      parsed(' 3 13:20:06 2020 daemon.info x: y', new SyslogParser({ referenceTime: reference })),
    ).toMatchObject({ timestamp: '2026-11-23T12:00:00.000Z', program: 'x', message: 'y' });
  });

  test.each([
    ['ern.info kernel: [ 12.3] foo', 'unrecognised line'],
    ['info kernel: [ 12.3] foo', 'unrecognised line'],
    ['.info kernel: [ 12.3] foo', 'unrecognised line'],
    ['<30>kern.info kernel: [ 12.3] foo', 'unrecognised line'],
    ['2020 hello world', 'date cut off, and no facility.level to read the line by'],
    ['2020 nofacility.info x: y', 'date cut off, and no facility.level to read the line by'],
    ['13:20:06 2020 kern.information x', 'date cut off, and no facility.level to read the line by'],
    ['12345 kern.info x', 'unrecognised timestamp'],
  ])('%j stays unreadable: %s', (line, reason) => {
    expect(new SyslogParser().parse(line)).toEqual({ ok: false, reason });
  });

  test("logread -t's [seconds.ms], locally and on the wire", () => {
    // local: "%s %s%s.%s%s %s\n" with buf_ts "[%lu.%03u] "; remote: ctime's 16 characters, then
    // buf_ts, then the host.
    expect(
      parsed('Thu Nov 12 13:20:06 2020 [1605186006.123] kern.info kernel: [    0.7] x'),
    ).toMatchObject({
      timestamp: '2020-11-12T13:20:06.000Z',
      facility: 'kern',
      program: 'kernel',
      message: '[    0.7] x',
    });
    expect(parsed('<6>Nov 12 13:20:06 [1605186006.123] gw-home kernel: [    0.7] x')).toMatchObject(
      { host: 'gw-home', level: 'info', program: 'kernel', message: '[    0.7] x' },
    );
    expect(parsed('<30>Nov 12 13:20:06 [1605186006.123] netifd: up')).toMatchObject({
      host: null,
      program: 'netifd',
      message: 'up',
    });
  });
});

describe("a facility.level word after the time (busybox syslogd's file format)", () => {
  // busybox: sprintf(G.printbuf, "%s %.64s %s %s\n", timestamp, G.hostname, res, msg)
  // with res = "%s.%s" (facility.priority).
  test('after the host, with no <PRI>: taken as facility and level', () => {
    expect(
      parsed('Nov 23 10:15:01 gw-home daemon.warn dnsmasq[1]: possible DNS-rebind attack'),
    ).toEqual({
      timestamp: '2026-11-23T10:15:01.000Z',
      host: 'gw-home',
      facility: 'daemon',
      level: 'warning',
      program: 'dnsmasq',
      pid: 1,
      message: 'possible DNS-rebind attack',
    });
    expect(
      parsed('Nov 23 10:15:01.250 gw-home authpriv.notice dropbear[9]: Exit before auth'),
    ).toMatchObject({ facility: 'authpriv', level: 'notice', program: 'dropbear', pid: 9 });
    expect(parsed('Nov 23 10:15:01 192.0.2.1 kern.warn kernel: [ 1.5] x')).toMatchObject({
      host: '192.0.2.1',
      facility: 'kern',
      level: 'warning',
      program: 'kernel',
      message: '[ 1.5] x',
    });
  });

  test('right after the time, with no host', () => {
    expect(parsed('Nov 23 10:15:01 daemon.warn dnsmasq[1]: x y')).toMatchObject({
      host: null,
      facility: 'daemon',
      level: 'warning',
      program: 'dnsmasq',
      pid: 1,
      message: 'x y',
    });
    expect(parsed('2026-01-05T13:54:43Z local7.debug logger: z')).toMatchObject({
      host: null,
      facility: 'local7',
      level: 'debug',
      program: 'logger',
    });
  });

  test('with a <PRI>, the <PRI> is kept and the word dropped', () => {
    expect(parsed('<30>Nov 23 10:15:01 gw-home daemon.warn dnsmasq[1]: x')).toMatchObject({
      host: 'gw-home',
      facility: 'daemon',
      level: 'info',
      program: 'dnsmasq',
      message: 'x',
    });
    expect(parsed('<86>Nov 23 10:15:01 user.err dropbear[2]: x')).toMatchObject({
      host: null,
      facility: 'authpriv',
      level: 'info',
      program: 'dropbear',
    });
  });

  test('a word that is not a known facility.level is left as before', () => {
    expect(parsed('Nov 23 10:15:01 gw-home daemon.loud dnsmasq[1]: x')).toMatchObject({
      host: 'gw-home',
      facility: null,
      program: null,
      message: 'daemon.loud dnsmasq[1]: x',
    });
    expect(parsed('Nov 23 10:15:01 gw.lan dnsmasq[1]: x')).toMatchObject({
      host: 'gw.lan',
      facility: null,
      program: 'dnsmasq',
    });
    // A facility.level in the message, after a tag, is message.
    expect(parsed('<13>Nov 23 10:15:01 logger: user.err is only text')).toMatchObject({
      host: null,
      level: 'notice',
      program: 'logger',
      message: 'user.err is only text',
    });
  });
});

describe('a space before the pid', () => {
  test('"prog [pid]: message" with a host, without one, and in logread', () => {
    expect(
      parsed('<30>Nov 23 10:15:01 gw-home udhcpc [1234]: sending renew to 192.0.2.1'),
    ).toMatchObject({
      host: 'gw-home',
      program: 'udhcpc',
      pid: 1234,
      message: 'sending renew to 192.0.2.1',
    });
    expect(parsed('<30>Nov 23 10:15:01 udhcpc [1234]: lease lost')).toMatchObject({
      host: null,
      program: 'udhcpc',
      pid: 1234,
      message: 'lease lost',
    });
    expect(parsed('Thu Nov 12 13:20:06 2020 daemon.notice udhcpc [77]: up')).toMatchObject({
      program: 'udhcpc',
      pid: 77,
      message: 'up',
    });
  });

  test('a pid needs a program before it', () => {
    expect(parsed('Thu Nov 12 13:20:06 2020 daemon.notice  [77]: up')).toMatchObject({
      program: null,
      pid: null,
      message: ' [77]: up',
    });
  });
});

describe('repeated lines (rsyslog\'s " message repeated %d times: [%.800s]")', () => {
  test('the message is the inner one, and repeats says how many lines it stands for', () => {
    expect(
      parsed(
        "Nov 23 10:15:01 gw-home dropbear[1514]: message repeated 4 times: [ Bad password attempt for 'root' from 192.0.2.7:52144]",
      ),
    ).toEqual({
      timestamp: '2026-11-23T10:15:01.000Z',
      host: 'gw-home',
      facility: null,
      level: null,
      program: 'dropbear',
      pid: 1514,
      message: "Bad password attempt for 'root' from 192.0.2.7:52144",
      repeats: 4,
    });
    expect(
      parsed(
        '<30>Nov 23 10:15:01 gw-home dnsmasq[728]: message repeated 2 times: [ query[A] example.org from 192.0.2.10]',
      ),
    ).toMatchObject({ message: 'query[A] example.org from 192.0.2.10', repeats: 2 });
    // RFC 5424 carries the message with no leading space.
    expect(
      parsed(
        '<30>1 2026-01-05T12:54:43Z gw-home hostapd 99 - - message repeated 12 times: [wlan0: STA 02:00:00:00:00:01 IEEE 802.11: deauthenticated]',
      ),
    ).toMatchObject({
      program: 'hostapd',
      message: 'wlan0: STA 02:00:00:00:00:01 IEEE 802.11: deauthenticated',
      repeats: 12,
    });
  });

  test('any other line has no repeats', () => {
    const record = parsed('<30>Nov 23 10:15:01 gw-home dnsmasq[728]: query[A] example.org');
    expect('repeats' in record).toBe(false);
  });

  test.each([
    // cut short on the way: no closing bracket
    'message repeated 3 times: [ query[A] example',
    'message repeated 0 times: [ x]',
    'message repeated many times: [ x]',
    // syslog-ng's summary: "Last message '%.20s' repeated %d times, suppressed by syslog-ng on %s"
    "Last message 'Bad password attempt' repeated 5 times, suppressed by syslog-ng on collector.example.net",
    // sysklogd's line of its own
    'last message repeated 3 times',
  ])('%j is left as it is', (message) => {
    const record = parsed(`<30>Nov 23 10:15:01 gw-home dropbear[1]: ${message}`);
    expect(record.message).toBe(message);
    expect(record.repeats).toBeUndefined();
  });
});

describe('fuzz: no input makes the parser throw', () => {
  const parser = new SyslogParser({ referenceTime: reference });
  // parse() has a net that turns a thrown error into an unreadable line; the logic under it
  // must never need it, so a 'parser error' outcome fails these tests.
  // A line either parses (a message, a valid time, repeats absent or a count) or fails with a
  // reason.
  const valid = (o: ReturnType<SyslogParser['parse']>): boolean =>
    o.ok
      ? typeof o.record.message === 'string' &&
        !Number.isNaN(Date.parse(o.record.timestamp)) &&
        o.time === Date.parse(o.record.timestamp) &&
        (o.record.repeats === undefined ||
          (Number.isSafeInteger(o.record.repeats) && o.record.repeats >= 1))
      : o.reason.length > 0 && !o.reason.startsWith('parser error');

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

  test('every suffix of every real line (a start cut off anywhere)', () => {
    const bad: string[] = [];
    for (const line of sampleLines)
      for (let n = 0; n <= line.length; n++)
        if (!valid(parser.parse(line.slice(n)))) bad.push(line.slice(n));
    expect(bad).toEqual([]);
  });

  test('generated lines of every shape: ring buffer, cut dates, facility.level words, pids, repeats', () => {
    const word = fc.string({ unit: 'binary', maxLength: 12 });
    const pri = fc.oneof(
      fc.constant(''),
      fc.integer({ min: -3, max: 260 }).map((n) => `<${n}>`),
      word.map((w) => `<${w}>`),
    );
    const uptime = fc
      .tuple(fc.nat({ max: 6 }), fc.nat({ max: 99_999 }), fc.nat({ max: 999_999 }), word)
      .map(([pad, s, us, w]) => `[${' '.repeat(pad)}${s}.${String(us).padStart(6, '0')}]${w}`);
    const logreadDate = fc
      .tuple(fc.nat({ max: 25 }), fc.integer({ min: 1, max: 31 }))
      .map(([cut, day]) => `Thu Nov ${String(day).padStart(2, ' ')} 13:20:06 2020 `.slice(cut));
    const stamp = fc.oneof(
      fc.constant(''),
      logreadDate,
      fc.constantFrom(
        'Nov 23 10:15:01 ',
        'Nov  3 10:15:01.250 ',
        '2026-01-05T13:54:43.262668+01:00 ',
        'Thu Nov 12 13:20:06 2020 [1605186006.123] ',
        'Nov 12 13:20:06 [1605186006.123] ',
      ),
    );
    const host = fc.oneof(
      fc.constantFrom('', 'gw-home ', '192.0.2.1 ', 'gw.lan ', 'mail.info ', '2020 '),
      word.map((w) => `${w} `),
    );
    const facilityLevel = fc.oneof(
      fc.constantFrom(
        '',
        'kern.info ',
        'daemon.warn ',
        'authpriv.warning ',
        'local7.debug ',
        'user.panic ',
        'security.error ',
        'daemon.loud ',
        'nofacility.info ',
        '.info ',
        'kern. ',
        'kern.info',
      ),
      fc.tuple(word, word).map(([f, l]) => `${f}.${l} `),
    );
    const tag = fc.oneof(
      fc.constantFrom(
        '',
        'kernel: ',
        'dnsmasq[728]: ',
        'udhcpc [12]: ',
        ' [12]: ',
        ': ',
        'x [y]: ',
      ),
      fc.tuple(word, fc.nat()).map(([w, n]) => `${w} [${n}]: `),
    );
    const message = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc
        .tuple(fc.integer({ min: -1, max: 2 ** 40 }), fc.string({ unit: 'binary', maxLength: 20 }))
        .chain(([n, inner]) =>
          fc.constantFrom(
            `message repeated ${n} times: [ ${inner}]`,
            `message repeated ${n} times: [${inner}]`,
            `message repeated ${n} times: [ ${inner}`,
            `Last message '${inner.slice(0, 20)}' repeated ${n} times, suppressed by syslog-ng on h`,
          ),
        ),
    );
    const line = fc.oneof(
      fc.tuple(pri, uptime, message).map(([p, u, m]) => `${p}${u} ${m}`),
      fc.tuple(pri, stamp, host, facilityLevel, tag, message).map((parts) => parts.join('')),
    );
    const fresh = new SyslogParser({ referenceTime: reference, timeZone: 'Europe/Berlin' });
    fc.assert(
      fc.property(line, (l) => valid(parser.parse(l)) && valid(fresh.parse(l))),
      { numRuns: 20_000 },
    );
  });
});

const at = (edits: [number, string][]): number => (edits[0]?.[0] ?? 13) % 200;
