// The contract between the analysis engine and its agents. An agent is a plug-in: it names the
// programs it reads, folds each line of a device's window into its own state, and at the end of
// the window turns that state into features and explainable findings. The engine does the
// rest (routing, windows, baselines, evidence), so adding an agent never touches the core.
import type { LogRecord } from '../parse/syslog.js';

export type AgentName = 'wifi' | 'dns' | 'auth' | 'firewall' | 'system' | 'template';

/** One parsed line, with where it came from: a database row id, or a line number in a file. */
export interface ObservedLine {
  ref: number | string;
  device: string;
  /** Milliseconds since the epoch, from record.timestamp. */
  time: number;
  record: LogRecord;
}

export interface Anomaly {
  agent: AgentName;
  device: string;
  type: string;
  /** 1 (informational) to 5 (critical). */
  severity: 1 | 2 | 3 | 4 | 5;
  /** How sure the finding is, 0 to 1. */
  confidence: number;
  /** How anomalous, 0 to 1: a rule's own measure, a baseline's, or a model's score. */
  score: number;
  windowStart: string;
  windowEnd: string;
  /** One line a person can read. */
  description: string;
  /** The features that drove the finding. */
  features: Record<string, number>;
  /** The lines behind it: database ids, or line numbers when reading a file. */
  evidence: (number | string)[];
  /** The rule that found it (docs/rules.md), when a rule pack's rule did. */
  rule?: string;
  /** What to do about it, from the rule. */
  remediation?: string;
  /**
   * The rule's groupBy captures that made the finding (e.g. {source: '203.0.113.7'}): what a
   * suppression or an alert label can be scoped by. Strings only, at most 8, each <= 256 chars.
   */
  captures?: Record<string, string>;
}

/** What an agent's rule reports; the engine adds agent, device and window. */
export type Finding = Omit<Anomaly, 'agent' | 'device' | 'windowStart' | 'windowEnd'>;

export interface WindowInfo {
  device: string;
  start: number;
  end: number;
}

/** A feature the engine watches against the device's own history (mean + k·σ). */
export interface BaselineRule {
  /** Below this value a spike is never reported (quiet devices vary a lot in relative terms). */
  minimum: number;
  severity: 2 | 3 | 4;
  description: string;
}

export interface Agent<State = unknown, Memory = unknown> {
  readonly name: AgentName;
  /** Programs (syslog tags) it reads; null reads every line. */
  readonly programs: ReadonlySet<string> | null;
  /** The names of the feature vector evaluate() gives for each window: what a model may take as input. */
  readonly features: readonly string[];
  /** Features checked against each device's baseline, by feature name. */
  readonly baselines?: Readonly<Record<string, BaselineRule>>;
  /** State for one device's window. */
  newWindow(): State;
  /** What the agent remembers about one device across windows (sources seen, templates). */
  newMemory(): Memory;
  /**
   * Memory as plain JSON, saved with each cycle's watermark so a restarted agent remembers what
   * it had learned. Agents whose memory is already plain JSON (or null) need neither.
   */
  saveMemory?(memory: Memory): unknown;
  /** The inverse of saveMemory; throws on a value it cannot read. */
  loadMemory?(saved: unknown): Memory;
  observe(state: State, line: ObservedLine, memory: Memory): void;
  /** Ends a window: its feature vector (fixed names, for baselines and models) and findings. */
  evaluate(
    state: State,
    window: WindowInfo,
    memory: Memory,
  ): { features: Record<string, number>; findings: Finding[] };
  /**
   * A window in which this device sent the agent no line: findings that need no line, such as
   * a state that stayed down too long. Agents without time-driven findings leave it out.
   */
  idle?(window: WindowInfo, memory: Memory): Finding[];
}
