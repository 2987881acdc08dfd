// Analysis of a stream of raw syslog lines with no database: parse, route to the agents, and
// hand each anomaly to the caller as its window closes. `edgewarden analyze` and the demo use
// it; the agent pod feeds the same engine from PostgreSQL.
import { AnalysisEngine } from '../agents/engine.js';
import type { Agent, AgentName, Anomaly } from '../agents/types.js';
import { WindowScorer, type ModelsByAgent } from '../model/windowScorer.js';
import { SyslogParser, type ParserOptions } from '../parse/syslog.js';

export interface AnalyzeOptions extends ParserOptions {
  agents: readonly Agent[];
  windowMs: number;
  /** A model per agent: each closed window of that agent is scored by it. */
  models?: ModelsByAgent;
  onAnomaly(anomaly: Anomaly): void;
  /** Called for each line the parser cannot read (it is counted and skipped). */
  onUnreadable?(lineNumber: number, reason: string, line: string): void;
  /** Hears how long each batch of one agent's model inference took, in seconds. */
  onInference?: (seconds: number, agent: AgentName) => void;
}

export interface AnalyzeSummary {
  lines: number;
  unreadable: number;
  anomalies: number;
  windows: number;
  /** Time of the newest line read (ms) from each device, as a running agent's cycle reports it. */
  newestByDevice: Map<string, number>;
}

export async function analyzeLines(
  batches: AsyncIterable<[number, string][]> | Iterable<[number, string][]>,
  options: AnalyzeOptions,
): Promise<AnalyzeSummary> {
  const parser = new SyslogParser(options);
  const scorer = new WindowScorer(() => options.models ?? {}, options.onInference);
  const engine = new AnalysisEngine(options.agents, {
    windowMs: options.windowMs,
    onWindow: scorer.collect,
  });
  const device = options.defaultHost ?? 'local';
  let unreadable = 0;
  let anomalies = 0;
  const newestByDevice = new Map<string, number>();
  const emit = (list: Anomaly[]): void => {
    for (const a of list) {
      anomalies++;
      options.onAnomaly(a);
    }
  };
  const score = async (): Promise<void> => emit(await scorer.score());
  for await (const batch of batches) {
    for (const [n, line] of batch) {
      const outcome = parser.parse(line);
      if (!outcome.ok) {
        unreadable++;
        options.onUnreadable?.(n, outcome.reason, line);
        continue;
      }
      const record = outcome.record;
      const host = record.host ?? device;
      if (outcome.time > (newestByDevice.get(host) ?? -Infinity))
        newestByDevice.set(host, outcome.time);
      emit(engine.push({ ref: n, device: host, time: outcome.time, record }));
    }
    await score();
  }
  emit(engine.flush());
  await score();
  return {
    lines: engine.stats.lines + unreadable,
    unreadable,
    anomalies,
    windows: engine.stats.windows,
    newestByDevice,
  };
}
