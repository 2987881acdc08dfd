// Exit codes and where the plugin writes, without a cluster: help, usage errors, a kubeconfig
// that cannot be read.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { main } from './main.js';

async function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { io: { out: (t) => out.push(t), err: (t) => err.push(t) }, env });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

test('--help: 0, on stdout', async () => {
  const top = await run(['--help']);
  expect(top).toMatchObject({ code: 0, err: '' });
  expect(top.out).toContain('Usage: kubectl edgewarden COMMAND [flags]');
  const ack = await run(['ack', '--help']);
  expect(ack.out).toContain('Usage: kubectl edgewarden ack ID [--note TEXT]');
});

test('a usage error: `error: ...` on stderr, exit 1', async () => {
  const r = await run(['anomalies', '--note', 'x']);
  expect(r).toEqual({
    code: 1,
    out: '',
    err: "error: unknown flag: --note\nSee 'kubectl edgewarden anomalies --help' for usage.",
  });
});

test('a kubeconfig that cannot be used: error, exit 1', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kubectl-ew-'));
  const missing = await run(['agents'], { KUBECONFIG: path.join(dir, 'none') });
  expect(missing.code).toBe(1);
  expect(missing.err).toMatch(/^error: the kubeconfig: cannot read .*none: no such file$/);
  const file = path.join(dir, 'config');
  writeFileSync(
    file,
    'apiVersion: v1\nkind: Config\ncurrent-context: a\ncontexts:\n- name: a\n  context: {cluster: c}\nclusters:\n- name: c\n  cluster: {server: "https://127.0.0.1:1"}\n',
  );
  const context = await run(['agents', '--context', 'b'], { KUBECONFIG: file });
  expect(context).toMatchObject({
    code: 1,
    err: `error: kubeconfig ${file}: no context named "b"`,
  });
  const id = await run(['anomaly', 'nope', '-n', 'x'], { KUBECONFIG: file });
  expect(id.code).toBe(1);
  expect(id.err).toContain('error: "nope" is not an anomaly ID');
});
