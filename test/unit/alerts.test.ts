// The Prometheus alerts the chart ships (charts/edgewarden/files/alerts.yaml): valid for
// promtool, their promtool unit tests pass (test/promtool/alerts.test.yaml), every alert is
// tested there firing and not firing, and every alert has its runbook in docs/runbooks.md.
// promtool comes from test/control-plane/build-binaries.sh (Prometheus 3, built from the Go
// module proxy); without it these tests fail, they are never skipped.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

import { promtool } from '../services/promtool.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RULES = 'charts/edgewarden/files/alerts.yaml';
const TESTS = 'test/promtool/alerts.test.yaml';
const RUNBOOKS = 'docs/runbooks.md';
const RUNBOOK_URL = 'https://github.com/edgewarden/edgewarden/blob/main/docs/runbooks.md';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: { name: string; rules: Rule[] }[];
}
interface ExpectedAlert {
  exp_labels?: Record<string, string>;
  exp_annotations?: Record<string, string>;
}
interface TestFile {
  rule_files: string[];
  tests: {
    name?: string;
    alert_rule_test?: { eval_time: string; alertname: string; exp_alerts?: ExpectedAlert[] }[];
  }[];
}

/** Runs promtool with `args` from the project root: its exit code and everything it printed. */
async function runPromtool(args: string[]): Promise<{ code: number; output: string }> {
  const bin = await promtool();
  return new Promise((resolve) => {
    execFile(bin, args, { cwd: root, timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

async function rules(): Promise<Rule[]> {
  const file = parse(await readFile(path.join(root, RULES), 'utf8')) as RuleFile;
  return file.groups.flatMap((g) => g.rules);
}

async function alerts(): Promise<(Rule & { alert: string })[]> {
  return (await rules()).filter((r): r is Rule & { alert: string } => r.alert !== undefined);
}

async function promtoolTests(): Promise<TestFile> {
  return parse(await readFile(path.join(root, TESTS), 'utf8')) as TestFile;
}

/** GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to hyphens. */
function anchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The runbook's level-2 sections: anchor → the section's text. */
async function runbookSections(): Promise<Map<string, string>> {
  const text = await readFile(path.join(root, RUNBOOKS), 'utf8');
  const sections = new Map<string, string>();
  let current: string | undefined;
  for (const line of text.split('\n')) {
    const heading = /^## (.+)$/.exec(line);
    if (heading) {
      current = anchor(heading[1]!);
      sections.set(current, '');
    } else if (current !== undefined) {
      sections.set(current, `${sections.get(current)!}${line}\n`);
    }
  }
  return sections;
}

describe('alerts.yaml with promtool', () => {
  test('promtool check rules accepts the rule file', async () => {
    const { code, output } = await runPromtool(['check', 'rules', RULES]);
    if (code !== 0) throw new Error(`promtool check rules exited with ${code}:\n${output}`);
    expect(output).toContain('SUCCESS');
  }, 120_000);

  test('promtool test rules passes every unit test', async () => {
    const { code, output } = await runPromtool(['test', 'rules', TESTS]);
    if (code !== 0) throw new Error(`promtool test rules exited with ${code}:\n${output}`);
    expect(output).toContain('SUCCESS');
  }, 120_000);
});

describe('every alert', () => {
  test('there are alerts, with unique names', async () => {
    const names = (await alerts()).map((a) => a.alert);
    expect(names.length).toBeGreaterThan(10);
    expect(new Set(names).size).toBe(names.length);
  });

  test('has a severity, a summary, a description and its runbook_url', async () => {
    const problems: string[] = [];
    for (const a of await alerts()) {
      if (!['warning', 'critical'].includes(a.labels?.severity ?? ''))
        problems.push(`${a.alert}: severity must be warning or critical`);
      for (const key of ['summary', 'description'])
        if (!a.annotations?.[key]?.trim()) problems.push(`${a.alert}: no ${key} annotation`);
      const url = `${RUNBOOK_URL}#${a.alert.toLowerCase()}`;
      if (a.annotations?.runbook_url !== url)
        problems.push(`${a.alert}: runbook_url must be ${url}`);
    }
    expect(problems).toEqual([]);
  });

  test('is tested by promtool both firing (labels and annotations) and not firing', async () => {
    const tests = await promtoolTests();
    expect(tests.rule_files).toEqual(['../../charts/edgewarden/files/alerts.yaml']);
    const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
    const problems: string[] = [];
    for (const { alert } of await alerts()) {
      const mine = cases.filter((c) => c.alertname === alert);
      const firing = mine.filter((c) => (c.exp_alerts ?? []).length > 0);
      if (firing.length === 0) problems.push(`${alert}: no case where it fires`);
      if (!mine.some((c) => (c.exp_alerts ?? []).length === 0))
        problems.push(`${alert}: no case where it must not fire`);
      for (const c of firing)
        for (const e of c.exp_alerts!) {
          if (!e.exp_labels?.severity)
            problems.push(`${alert} at ${c.eval_time}: exp_labels without severity`);
          const annotations = Object.keys(e.exp_annotations ?? {}).sort();
          if (annotations.join() !== 'description,runbook_url,summary')
            problems.push(`${alert} at ${c.eval_time}: exp_annotations must give all three`);
        }
    }
    const names = new Set((await alerts()).map((a) => a.alert));
    for (const c of cases)
      if (!names.has(c.alertname)) problems.push(`test of an unknown alert ${c.alertname}`);
    expect(problems).toEqual([]);
  });

  test('has a runbook section with meaning, confirmation, causes and what to do', async () => {
    const sections = await runbookSections();
    const problems: string[] = [];
    for (const { alert } of await alerts()) {
      const section = sections.get(alert.toLowerCase());
      if (section === undefined) {
        problems.push(`${alert}: no "## ${alert}" section in ${RUNBOOKS}`);
        continue;
      }
      for (const part of ['**Meaning**', '**Confirm**', '**Likely causes**', '**What to do**'])
        if (!section.includes(part)) problems.push(`${alert}: its runbook has no ${part}`);
    }
    expect(problems).toEqual([]);
  });
});
