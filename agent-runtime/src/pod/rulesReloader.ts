// Keeps a running agent's rules in step with its AnalysisAgent: before each cycle it reads
// spec.rules from the configuration file (which the kubelet updates in place when the operator
// rewrites the ConfigMap) and the packs in the rules folder (the ConfigMaps of
// spec.rules.configMaps). Nothing changed: nothing done. A change that compiles replaces the
// rule book (the detectors' memories of the rules that stay carry over); one that does not is
// refused with the rule and field named, and the rules in force go on.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';

import type { RulesState } from '../contract/status.js';
import { componentLog } from '../log.js';
import type { PackSource } from '../rules/compileRules.js';
import { compilePacks, packFilesIn, parsePack } from '../rules/packFiles.js';
import { packSources } from '../rules/ruledAgents.js';
import { buildRuleSet, type RulesTuning } from '../rules/ruleSet.js';
import type { RuleBook } from '../rules/withRules.js';

const log = componentLog('agent');

export class RulesReloader {
  private fingerprint = '';
  private builtIn: PackSource[] | undefined;
  private readonly loaded: RulesState = { rules: 0, packs: [], reloads: 0 };

  constructor(
    private readonly book: RuleBook,
    private readonly configFile: string,
    private readonly rulesDir: string,
    /** Called after the rules were replaced (the engine re-reads which programs its agents read). */
    private readonly onReplaced: () => void,
  ) {}

  /** The rules in force, and their suppressions counted as of now (one may expire any time). */
  get state(): RulesState {
    return { ...this.loaded, suppressions: this.book.current.suppressions.count(new Date()) };
  }

  /**
   * Reads the configuration and the user's packs; replaces the rules if either changed. Only
   * their text is read each cycle (and compared by digest); the built-in packs, which the image
   * fixes, are read once. Never throws.
   */
  async refresh(): Promise<'unchanged' | 'replaced' | 'refused'> {
    let config: string;
    let userPacks: { file: string; text: string }[];
    try {
      config = await readFile(this.configFile, 'utf8');
      userPacks = await Promise.all(
        (await this.userPackFiles()).map(async (file) => ({
          file,
          text: await readFile(file, 'utf8'),
        })),
      );
    } catch (error) {
      return this.refuse((error as Error).message, `unreadable: ${(error as Error).message}`);
    }
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([config, userPacks]))
      .digest('hex');
    if (fingerprint === this.fingerprint) return 'unchanged';
    try {
      this.builtIn ??= await packSources();
      const tuning = (parse(config) as { spec?: { rules?: RulesTuning } } | null)?.spec?.rules;
      const compiled = compilePacks([
        ...this.builtIn,
        ...userPacks.map(({ file, text }) => parsePack(file, text)),
      ]);
      this.book.replace(buildRuleSet(compiled, tuning));
      this.fingerprint = fingerprint;
      const enabled = this.book.current.all.filter((r) => r.enabled);
      Object.assign(this.loaded, {
        rules: enabled.length,
        packs: [...new Set(compiled.map((r) => r.pack))].sort(),
        reloads: this.loaded.reloads + 1,
        error: undefined,
      });
      this.onReplaced();
      log.info('rules loaded', { rules: enabled.length, packs: this.loaded.packs.length });
      return 'replaced';
    } catch (error) {
      return this.refuse((error as Error).message, fingerprint);
    }
  }

  private refuse(message: string, fingerprint: string): 'refused' {
    // Logged once per distinct change, not every cycle.
    if (fingerprint !== this.fingerprint)
      log.error(`edgewarden agent: rules refused, the rules in force go on: ${message}`, message);
    this.fingerprint = fingerprint;
    this.loaded.error = message;
    return 'refused';
  }

  /** Each mounted ConfigMap is a folder of the rules folder; a missing folder is no packs. */
  private async userPackFiles(): Promise<string[]> {
    let entries: string[];
    try {
      entries = (await readdir(this.rulesDir, { withFileTypes: true }))
        .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
        .map((e) => e.name)
        .sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const files: string[] = [];
    for (const name of entries) files.push(...(await packFilesIn(path.join(this.rulesDir, name))));
    return files;
  }
}
