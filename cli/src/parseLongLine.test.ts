// `edgewarden parse` on a 64 MB line with no newline (issue 20, Low: the line reader's cap): the
// line after it is still read, the process's peak RSS stays bounded, and what the command writes
// to stderr holds no raw control bytes. Runs bin/edgewarden.js, so it needs `npm run build`.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// Writes the child's peak RSS (KiB) to fd 3 as it exits.
const peakRss =
  'data:text/javascript,import{writeSync}from"node:fs";' +
  'process.on("exit",()=>writeSync(3,String(process.resourceUsage().maxRSS)))';

test('a 64 MB line without newline: the next line is read, RSS bounded, stderr escaped', async () => {
  const child = spawn(
    process.execPath,
    ['--import', peakRss, 'bin/edgewarden.js', 'parse', '--input', '-'],
    { cwd: root, stdio: ['pipe', 'pipe', 'pipe', 'pipe'] },
  );
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const rss: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  (child.stdio[3] as NodeJS.ReadableStream).on('data', (b: Buffer) => rss.push(b));

  const mb = Buffer.alloc(1024 * 1024, 'x');
  const first = Buffer.from(mb);
  Buffer.from('\x1b[2J\x1b]0;owned\x07\x08\x7f').copy(first); // terminal escapes at its start
  for (let i = 0; i < 64; i++)
    if (!child.stdin.write(i === 0 ? first : mb)) await once(child.stdin, 'drain');
  child.stdin.end('\nJan  5 10:00:00 router dnsmasq[42]: query[A] example.com\n');
  const [code] = (await once(child, 'close')) as [number];

  expect(code).toBe(0);
  const lines = Buffer.concat(out).toString('utf8').trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(JSON.parse(lines[0]!)).toMatchObject({
    host: 'router',
    program: 'dnsmasq',
    message: 'query[A] example.com',
  });
  const stderr = Buffer.concat(err).toString('utf8');
  expect(stderr).toContain('line 1: line longer than 65536 characters');
  expect(stderr).toContain('parsed 1 lines, 1 unreadable');
  expect(stderr).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/); // eslint-disable-line no-control-regex
  // 64 MB read whole costs several hundred MB; read in bounded pieces it is the runtime's own.
  expect(Number(Buffer.concat(rss).toString())).toBeLessThan(200 * 1024);
}, 180_000);
