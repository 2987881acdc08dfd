// The release's version, in every place it is written. A release tag vX.Y.Z publishes the image
// ghcr.io/<owner>/edgewarden:X.Y.Z and the chart X.Y.Z (.github/workflows/release.yml); the
// chart's default image tag is its appVersion, so package.json, the lock file and Chart.yaml's
// version and appVersion must all say X.Y.Z when the tag is pushed.
//
//   npm run release:version -- 0.2.0          set it in those three files and in the docs that
//                                            quote it (DOCS), then render again what is made from
//                                            the chart (manifests/edgewarden.yaml,
//                                            k3s/edgewarden-helmchart.yaml; helm from the tool cache)
//   node scripts/release-version.mjs --check 0.2.0 [--image ghcr.io/edgewarden/edgewarden]
//                                            change nothing; exit 1, saying what differs, unless
//                                            every place says 0.2.0, values.yaml leaves image.tag
//                                            empty (and names that image repository)
//
// A leading v is dropped (v0.2.0 is 0.2.0). --root DIR works on a copy of the files (the tests
// use it); --no-render skips the rendering. Plain JavaScript with no dependencies on purpose: the
// release workflow runs --check before anything is installed.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const CHART = 'charts/edgewarden/Chart.yaml';
const VALUES = 'charts/edgewarden/values.yaml';
// SemVer 2.0.0 (semver.org's own expression), what Helm requires of a chart version, without
// build metadata: the version is also the image's tag, and a tag cannot hold a `+`.
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?$/;

/** Docs that name the current version literally, and how (test/unit/release-version.test.ts). */
export const DOCS = ['README.md', 'docs/image.md', 'docs/getting-started.md', 'k3s/README.md'];
const DOC_RULES = [
  // the packaged chart, edgewarden-0.1.0.tgz, and the released one, ...charts/edgewarden --version 0.1.0
  { version: 'chart', before: 'edgewarden-', after: '\\.tgz' },
  { version: 'chart', before: 'charts/edgewarden --version ', after: '(?![\\w.+-])' },
  // the image, ghcr.io/edgewarden/edgewarden:0.1.0, and its saved file, edgewarden-0.1.0-arm64.tar
  { version: 'app', before: 'edgewarden/edgewarden:', after: '(?![\\w.+-])' },
  { version: 'app', before: 'edgewarden-', after: '-arm64\\.tar' },
  { version: 'app', before: '`appVersion` \\(', after: '\\)' },
  // helm install's NOTES: "edgewarden 0.1.0 is installed in edgewarden-system."
  { version: 'app', before: 'edgewarden ', after: ' is installed' },
];

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A YAML scalar as written on one line: without a trailing comment and without quotes. */
const scalar = (raw) =>
  raw
    .replace(/\s+#.*$/, '')
    .trim()
    .replace(/^(['"])(.*)\1$/, '$2');

/** Chart.yaml's top-level version and appVersion (read as lines: the file keeps its comments). */
export function readChart(text) {
  const field = (name) => {
    const m = new RegExp(`^${name}:[ \\t]*(.*)$`, 'm').exec(text);
    return m ? scalar(m[1]) : undefined;
  };
  return { version: field('version'), appVersion: field('appVersion') };
}

/** Chart.yaml with version and appVersion set, each keeping its quotes if it had any. */
export function setChart(text, version) {
  let out = text;
  for (const name of ['version', 'appVersion']) {
    const re = new RegExp(`^(${name}:[ \\t]*)(['"]?)[^'"\\s#]*\\2`, 'm');
    if (!re.test(out)) throw new Error(`${CHART}: no top-level ${name}`);
    out = out.replace(re, (_m, key, quote) => `${key}${quote}${version}${quote}`);
  }
  return out;
}

/** values.yaml's image.repository and image.tag (the top-level `image:` block). */
export function readImageValues(text) {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /^image:\s*$/.test(l));
  if (start < 0) return {};
  const image = {};
  for (const line of lines.slice(start + 1)) {
    if (/^\S/.test(line) && !line.startsWith('#')) break;
    const m = /^\s+(repository|tag):[ \t]*(.*)$/.exec(line);
    if (m) image[m[1]] = scalar(m[2]);
  }
  return image;
}

/** What disagrees with `version` (and `image`, when given), one sentence each. */
export function check(root, version, image) {
  const problems = [];
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
  const chart = readChart(readFileSync(path.join(root, CHART), 'utf8'));
  const values = readImageValues(readFileSync(path.join(root, VALUES), 'utf8'));
  const expect = (where, actual) => {
    if (actual !== version)
      problems.push(`${where} is ${JSON.stringify(actual)}, not "${version}"`);
  };
  expect('package.json "version"', pkg.version);
  expect('package-lock.json "version"', lock.version);
  expect('package-lock.json packages[""].version', lock.packages?.['']?.version);
  expect(`${CHART} version`, chart.version);
  expect(`${CHART} appVersion`, chart.appVersion);
  if (values.tag !== '')
    problems.push(
      `${VALUES} image.tag is ${JSON.stringify(values.tag)}: it must be '' so that the chart's ` +
        'default image tag is its appVersion',
    );
  if (image !== undefined && values.repository !== image)
    problems.push(
      `${VALUES} image.repository is ${JSON.stringify(values.repository)}, but the release ` +
        `publishes ${image}`,
    );
  return problems;
}

/** Sets `version` in package.json, package-lock.json, Chart.yaml and the docs that quote it. */
export function setVersion(root, version) {
  const chartFile = path.join(root, CHART);
  const chartText = readFileSync(chartFile, 'utf8');
  const old = readChart(chartText);
  // npm's own client writes package.json's version and both of the lock file's.
  const npm = spawnSync(
    'npm',
    ['version', version, '--no-git-tag-version', '--allow-same-version'],
    { cwd: root, encoding: 'utf8' },
  );
  if (npm.status !== 0) throw new Error(`npm version ${version} failed:\n${npm.stderr}`);
  writeFileSync(chartFile, setChart(chartText, version));
  const changed = ['package.json', 'package-lock.json', CHART];
  for (const file of DOCS) {
    const full = path.join(root, file);
    let text;
    try {
      text = readFileSync(full, 'utf8');
    } catch {
      continue; // a copy made for a test may leave a doc out
    }
    let next = text;
    for (const rule of DOC_RULES) {
      const from = rule.version === 'chart' ? old.version : old.appVersion;
      if (!from) continue;
      const re = new RegExp(`(${rule.before})${escape(from)}(${rule.after})`, 'g');
      next = next.replace(re, (_m, before, after) => `${before}${version}${after}`);
    }
    if (next !== text) {
      writeFileSync(full, next);
      changed.push(file);
    }
  }
  return changed;
}

function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      check: { type: 'boolean' },
      image: { type: 'string' },
      root: { type: 'string' },
      'no-render': { type: 'boolean' },
    },
  });
  const [arg] = positionals;
  const version = arg?.replace(/^v/, '');
  if (!version || positionals.length > 1 || !SEMVER.test(version)) {
    console.error(
      'usage: npm run release:version -- X.Y.Z   (or --check X.Y.Z [--image REPOSITORY])\n' +
        (arg
          ? `"${arg}" is not a SemVer 2 version without build metadata (X.Y.Z or X.Y.Z-pre)`
          : ''),
    );
    process.exit(2);
  }
  const root = path.resolve(
    values.root ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..'),
  );

  if (values.check) {
    const problems = check(root, version, values.image);
    if (problems.length === 0) {
      console.log(
        `release version ${version}: package.json, package-lock.json and Chart.yaml agree`,
      );
      return;
    }
    console.error(`release version ${version} does not match the repository:`);
    for (const p of problems) console.error(`  - ${p}`);
    console.error(
      `Run \`npm run release:version -- ${version}\`, commit the result, and tag that commit v${version}.`,
    );
    process.exit(1);
  }

  const changed = setVersion(root, version);
  console.log(`version ${version} set in: ${changed.join(', ')}`);
  if (values['no-render']) return;
  // What is rendered from the chart carries its version (labels, the image, the chart's URL).
  for (const script of ['generate:manifests', 'k3s:manifest']) {
    const r = spawnSync('npm', ['run', '--silent', script], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) {
      console.error(
        `npm run ${script} failed (helm comes from the tool cache: npm run tools). The version ` +
          'is already set; run it again once it works.',
      );
      process.exit(1);
    }
  }
  const left = check(root, version);
  if (left.length > 0) {
    for (const p of left) console.error(`  - ${p}`);
    process.exit(1);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) main();
