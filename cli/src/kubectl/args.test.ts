import { parseCommandLine } from './args.js';

test('kubectl flags, command flags and the argument', () => {
  const line = parseCommandLine([
    ...['anomalies', '-A', '-o', 'wide', '--severity', 'high', '--since', '1h'],
    ...['--status', 'all', '--context', 'lab', '--kubeconfig', '/k', '-w', '--interval', '5s'],
  ]);
  expect(line).toEqual({
    kind: 'run',
    command: 'anomalies',
    argument: undefined,
    flags: {
      kubeconfig: '/k',
      context: 'lab',
      severity: 'high',
      status: 'all',
      since: '1h',
      interval: '5s',
      allNamespaces: true,
      output: 'wide',
      watch: true,
      dryRun: false,
      noSuppress: false,
    },
  });
  const fp = parseCommandLine([
    'false-positive',
    'auth-0:17',
    '-n',
    'edge',
    '--note',
    'lab',
    '--dry-run',
  ]);
  expect(fp).toMatchObject({
    kind: 'run',
    command: 'false-positive',
    argument: 'auth-0:17',
    flags: { namespace: 'edge', note: 'lab', dryRun: true, noSuppress: false, output: 'table' },
  });
  expect(parseCommandLine(['top', 'devices', '--since=7d'])).toMatchObject({
    kind: 'run',
    command: 'top',
    flags: { since: '7d' },
  });
});

test('help: none, --help, help COMMAND, COMMAND --help', () => {
  expect(parseCommandLine([])).toEqual({ kind: 'help', command: undefined });
  expect(parseCommandLine(['--help'])).toEqual({ kind: 'help', command: undefined });
  expect(parseCommandLine(['help', 'ack'])).toEqual({ kind: 'help', command: 'ack' });
  expect(parseCommandLine(['agents', '-h'])).toEqual({ kind: 'help', command: 'agents' });
});

test.each([
  [['nope'], 'unknown command "nope"'],
  [['ack', 'auth-0:1', '--severity', 'high'], 'unknown flag: --severity'],
  [['agents', '--note', 'x'], 'unknown flag: --note'],
  [['anomaly'], 'anomaly needs ID'],
  [['anomalies', 'extra'], 'unexpected argument "extra"'],
  [['top', 'rules'], 'top: only `top devices` exists'],
  [
    ['agents', '-o', 'xml'],
    'unable to match a printer suitable for the output format "xml", allowed formats are: table,wide,json,yaml',
  ],
  [['agents', '-n', 'a', '-A'], '--namespace and --all-namespaces: give one'],
  [['anomalies', '--bogus'], "Unknown option '--bogus'"],
])('%j is refused: %s', (argv, message) => {
  expect(parseCommandLine(argv)).toMatchObject({ kind: 'error', message });
});
