// One version: package.json, package-lock.json and Chart.yaml's version and appVersion agree,
// and values.yaml leaves image.tag empty, so the chart's default image is
// ghcr.io/<owner>/edgewarden:<appVersion>, the image a release tag v<version> publishes
// (.github/workflows/release.yml checks the same with scripts/release-version.mjs before it
// builds). And that script: `npm run release:version -- X.Y.Z` sets every place, `--check`
// names what disagrees.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SCRIPT = path.join(root, 'scripts/release-version.mjs');
const CHART = 'charts/edgewarden/Chart.yaml';
const VALUES = 'charts/edgewarden/values.yaml';

interface Versions {
  packageJson: string;
  lock: string;
  lockRoot: string;
  chart: string;
  appVersion: string;
}
interface Chart {
  version: string;
  appVersion: string;
  home: string;
}

function versions(dir: string): Versions {
  const json = (f: string): { version: string; packages: Record<string, { version: string }> } =>
    JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as never;
  const chart = parse(readFileSync(path.join(dir, CHART), 'utf8')) as Chart;
  const lock = json('package-lock.json');
  return {
    packageJson: json('package.json').version,
    lock: lock.version,
    lockRoot: lock.packages['']!.version,
    chart: String(chart.version),
    appVersion: String(chart.appVersion),
  };
}

const releaseVersion = (...args: string[]): { status: number | null; output: string } => {
  const r = spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
};

const version = versions(root).packageJson;
const chart = parse(readFileSync(path.join(root, CHART), 'utf8')) as Chart;

test('package.json, package-lock.json and Chart.yaml name one version', () => {
  const v = version;
  expect(versions(root)).toEqual({ packageJson: v, lock: v, lockRoot: v, chart: v, appVersion: v });
});

test("the chart's default image is what a release publishes: ghcr.io/<owner>/edgewarden:<appVersion>", () => {
  const owner = /^https:\/\/github\.com\/([^/]+)\/[^/]+$/.exec(chart.home)?.[1];
  expect(owner).toBeDefined();
  const values = parse(readFileSync(path.join(root, VALUES), 'utf8')) as {
    image: { repository: string; tag: string };
  };
  // release.yml pushes ghcr.io/${{ github.repository_owner }}/edgewarden, lower-cased.
  expect(values.image).toMatchObject({
    repository: `ghcr.io/${owner!.toLowerCase()}/edgewarden`,
    tag: '', // empty: the chart's appVersion
  });
  expect(releaseVersion('--check', `v${version}`, '--image', values.image.repository)).toEqual({
    status: 0,
    output: expect.stringContaining('agree') as string,
  });
});

// The docs that quote the version (DOCS in scripts/release-version.mjs, which rewrites them).
const DOCS = ['README.md', 'docs/image.md', 'docs/getting-started.md', 'k3s/README.md'];

test.each(DOCS)('%s names the current version', (doc) => {
  const text = readFileSync(path.join(root, doc), 'utf8');
  const found = (re: RegExp): string[] => [...new Set([...text.matchAll(re)].map((m) => m[1]!))];
  const V = '(\\d+\\.\\d+\\.\\d+(?:-[0-9A-Za-z.-]*[0-9A-Za-z])?)';
  const images = found(new RegExp(`edgewarden/edgewarden:${V}`, 'g'));
  const charts = [
    ...found(new RegExp(`charts/edgewarden --version ${V}`, 'g')),
    ...found(new RegExp(`edgewarden-${V}\\.tgz`, 'g')),
  ];
  const installed = found(new RegExp(`edgewarden ${V} is installed`, 'g'));
  expect({ images, installed }).toEqual({
    images: images.length > 0 ? [chart.appVersion] : [],
    installed: installed.length > 0 ? [chart.appVersion] : [],
  });
  expect(new Set(charts)).toEqual(new Set(charts.length > 0 ? [chart.version] : []));
});

describe('scripts/release-version.mjs, on a copy of the files it edits', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'edgewarden-release-'));
    for (const f of ['package.json', 'package-lock.json', CHART, VALUES, ...DOCS]) {
      mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      cpSync(path.join(root, f), path.join(dir, f));
    }
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('sets the version in every place, and --check then agrees', () => {
    const next = '9.8.7-rc.1';
    const set = releaseVersion(next, '--root', dir, '--no-render');
    expect(set).toMatchObject({ status: 0 });
    const v = next;
    expect(versions(dir)).toEqual({
      packageJson: v,
      lock: v,
      lockRoot: v,
      chart: v,
      appVersion: v,
    });
    // Chart.yaml keeps everything else, comments and order included.
    const edited = readFileSync(path.join(dir, CHART), 'utf8');
    const original = readFileSync(path.join(root, CHART), 'utf8');
    expect(edited.replaceAll(next, version)).toBe(original);
    // The k3s guide's versions are the chart's (test/integration/k3s.test.ts checks them).
    const guide = readFileSync(path.join(dir, 'k3s/README.md'), 'utf8');
    expect(guide).toContain(`edgewarden-${next}.tgz`);
    expect(guide).toContain(`ghcr.io/edgewarden/edgewarden:${next}`);
    expect(guide).not.toContain(`edgewarden:${version}`);
    expect(guide).not.toContain(`edgewarden-${version}.tgz`);
    const readme = readFileSync(path.join(dir, 'README.md'), 'utf8');
    expect(readme).toContain(`ghcr.io/edgewarden/edgewarden:${next} `);
    expect(readme).toContain(`charts/edgewarden --version ${next} `);
    expect(releaseVersion('--check', next, '--root', dir)).toMatchObject({ status: 0 });
  });

  test('--check fails, naming each place that disagrees', () => {
    const file = path.join(dir, CHART);
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(/^appVersion: .*$/m, 'appVersion: 0.0.1'),
    );
    const values = path.join(dir, VALUES);
    writeFileSync(values, readFileSync(values, 'utf8').replace(/^ {2}tag: ''/m, "  tag: 'dev'"));
    const { status, output } = releaseVersion('--check', version, '--root', dir);
    expect(status).toBe(1);
    expect(output).toContain(`${CHART} appVersion is "0.0.1", not "${version}"`);
    expect(output).toContain(`${VALUES} image.tag is "dev"`);
    expect(output).not.toContain('package.json "version"');
  });

  test('refuses what is not a version an image tag can carry', () => {
    expect(releaseVersion('1.2', '--root', dir, '--no-render').status).toBe(2);
    expect(releaseVersion('1.2.3+build.5', '--root', dir, '--no-render').status).toBe(2);
    expect(versions(dir).packageJson).toBe(version);
  });
});
