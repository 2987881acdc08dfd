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

import type { PackSource } from '../rules/compileRules.js';
import { compilePacks, packFilesIn } from '../rules/packFiles.js';
import { packSources } from '../rules/ruledAgents.js';
import { buildRuleSet, type RulesTuning } from '../rules/ruleSet.js';
import type { RuleBook } from '../rules/withRules.js';

export interface RulesState {
  /** Rules running now, and the packs they came from. */
  rules: number;
  packs: string[];
  /** How many times the rules have been replaced since the start. */
  reloads: number;
  /** Why the latest change was refused; unset once a change is accepted. */
  error?: string;
}

export class RulesReloader {
  private fingerprint = '';
  readonly state: RulesState = { rules: 0, packs: [], reloads: 0 };

  constructor(
    private readonly book: RuleBook,
    private readonly configFile: string,
    private readonly rulesDir: string,
    /** Called after the rules were replaced (the engine re-reads which programs its agents read). */
    private readonly onReplaced: () => void,
  ) {}

  /** Reads the tuning and the packs; replaces the rules if they changed. Never throws. */
  async refresh(): Promise<'unchanged' | 'replaced' | 'refused'> {
    let tuning: RulesTuning | undefined;
    let sources: PackSource[];
    try {
      tuning = await this.readTuning();
      sources = await packSources(await this.userPackFiles());
    } catch (error) {
      return this.refuse((error as Error).message, `unreadable: ${(error as Error).message}`);
    }
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([tuning ?? null, sources.map((s) => [s.origin, s.document])]))
      .digest('hex');
    if (fingerprint === this.fingerprint) return 'unchanged';
    try {
      const compiled = compilePacks(sources);
      this.book.replace(buildRuleSet(compiled, tuning));
      this.fingerprint = fingerprint;
      const enabled = this.book.current.all.filter((r) => r.enabled);
      Object.assign(this.state, {
        rules: enabled.length,
        packs: [...new Set(compiled.map((r) => r.pack))].sort(),
        reloads: this.state.reloads + 1,
        error: undefined,
      });
      this.onReplaced();
      console.log(
        `edgewarden agent: rules loaded: ${enabled.length} rules from ${this.state.packs.length} packs`,
      );
      return 'replaced';
    } catch (error) {
      return this.refuse((error as Error).message, fingerprint);
    }
  }

  private refuse(message: string, fingerprint: string): 'refused' {
    // Logged once per distinct change, not every cycle.
    if (fingerprint !== this.fingerprint)
      console.error(`edgewarden agent: rules refused, the rules in force go on: ${message}`);
    this.fingerprint = fingerprint;
    this.state.error = message;
    return 'refused';
  }

  private async readTuning(): Promise<RulesTuning | undefined> {
    const document = parse(await readFile(this.configFile, 'utf8')) as {
      spec?: { rules?: RulesTuning };
    } | null;
    return document?.spec?.rules;
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
