// The analysis engine: routes each parsed line to the agents that read its program, keeps one
// window of state per agent and device, and when a device's window ends asks each agent for its
// features and findings, checks the features against the device's own baseline, and returns
// anomalies. It streams: memory holds the open windows, never the lines.
import { Baseline } from './baseline.js';
import type { Agent, Anomaly, Finding, ObservedLine } from './types.js';

/** A closed window's feature vector, for a model to score. */
export interface WindowFeatures {
  agent: Agent['name'];
  device: string;
  windowStart: string;
  windowEnd: string;
  features: Record<string, number>;
  /** The window's first lines (at most WINDOW_EVIDENCE): evidence for a model's verdict. */
  evidence: (number | string)[];
}

export const WINDOW_EVIDENCE = 50;

export interface EngineOptions {
  /** Length of an analysis window in ms (the AnalysisAgent's interval). */
  windowMs: number;
  /** Called with every closed window's features (models score them). */
  onWindow?(window: WindowFeatures): void;
}

interface OpenWindow {
  start: number;
  state: unknown;
  refs: (number | string)[];
}

interface DeviceSlot {
  memory: unknown;
  window: OpenWindow | undefined;
  baselines: Map<string, Baseline>;
}

export interface EngineStats {
  lines: number;
  routed: number;
  windows: number;
  late: number;
  /** Lines without a usable time, skipped. */
  invalid: number;
}

/**
 * What the engine has learned, as plain JSON: per agent and device, the agent's memory and the
 * feature baselines. Open windows are not part of it (a cycle closes them all before saving).
 */
export interface EngineState {
  version: 1;
  agents: Record<string, Record<string, { memory?: unknown; baselines: Record<string, unknown> }>>;
}

export class AnalysisEngine {
  private readonly byProgram = new Map<string, Agent[]>();
  private readonly everyLine: Agent[] = [];
  /** agent name -> device -> slot */
  private readonly slots = new Map<string, Map<string, DeviceSlot>>();
  private newestWindow = -Infinity;
  readonly stats: EngineStats = { lines: 0, routed: 0, windows: 0, late: 0, invalid: 0 };

  constructor(
    readonly agents: readonly Agent[],
    private readonly options: EngineOptions,
  ) {
    for (const agent of agents) this.slots.set(agent.name, new Map());
    this.reroute();
  }

  /** Reads the agents' programs again (their rules changed which programs they read). */
  reroute(): void {
    this.byProgram.clear();
    this.everyLine.length = 0;
    for (const agent of this.agents) {
      if (agent.programs === null) this.everyLine.push(agent);
      else
        for (const p of agent.programs)
          this.byProgram.set(p, [...(this.byProgram.get(p) ?? []), agent]);
    }
  }

  /** Feeds one line; returns the anomalies of any windows that this line's time closed. */
  push(line: ObservedLine): Anomaly[] {
    if (!Number.isFinite(line.time)) {
      this.stats.invalid++; // no time, no window: counted and skipped
      return [];
    }
    this.stats.lines++;
    const out: Anomaly[] = [];
    const start = line.time - (line.time % this.options.windowMs);
    if (start > this.newestWindow) {
      // Time moved on: windows of devices that went quiet end too (two windows back, so a
      // little lateness between devices is tolerated).
      if (this.newestWindow !== -Infinity) this.closeBefore(start - this.options.windowMs, out);
      this.newestWindow = start;
    }
    const agents = this.byProgram.get(line.record.program ?? '');
    if (agents) for (const agent of agents) this.route(agent, line, start, out);
    for (const agent of this.everyLine) this.route(agent, line, start, out);
    return out;
  }

  /** Ends every open window (end of a file, or shutdown). */
  flush(): Anomaly[] {
    const out: Anomaly[] = [];
    this.closeBefore(Infinity, out);
    return out;
  }

  /** What has been learned so far (see EngineState). */
  saveState(): EngineState {
    const agents: EngineState['agents'] = {};
    for (const agent of this.agents) {
      const devices: EngineState['agents'][string] = {};
      for (const [device, slot] of this.slots.get(agent.name)!) {
        const baselines: Record<string, unknown> = {};
        for (const [feature, b] of slot.baselines) baselines[feature] = b.save();
        devices[device] = {
          memory: agent.saveMemory ? agent.saveMemory(slot.memory) : slot.memory,
          baselines,
        };
      }
      agents[agent.name] = devices;
    }
    return { version: 1, agents };
  }

  /**
   * Forgets everything: open windows, what was learned, where time was. A cycle that fails
   * calls it (then loadState with what it last committed), so that the lines it analysed
   * before the failure, which the retry reads again, count once.
   */
  reset(): void {
    for (const agent of this.agents) this.slots.set(agent.name, new Map());
    this.newestWindow = -Infinity;
  }

  /**
   * Restores what saveState() saved, before any line is pushed (or after reset()). Agents not
   * running now are ignored; a malformed state throws and leaves the engine as it was
   * (learning afresh).
   */
  loadState(state: unknown): void {
    const s = state as Partial<EngineState> | null;
    if (s?.version !== 1 || typeof s.agents !== 'object' || s.agents === null)
      throw new Error('engine state: unknown version or shape');
    const restored = new Map<string, Map<string, DeviceSlot>>();
    for (const agent of this.agents) {
      const devices = new Map<string, DeviceSlot>();
      for (const [device, saved] of Object.entries(s.agents[agent.name] ?? {})) {
        const baselines = new Map<string, Baseline>();
        for (const [feature, b] of Object.entries(saved.baselines ?? {}))
          baselines.set(feature, Baseline.load(b));
        const memory = agent.loadMemory ? agent.loadMemory(saved.memory) : (saved.memory ?? null);
        devices.set(device, { memory, window: undefined, baselines });
      }
      restored.set(agent.name, devices);
    }
    for (const [name, devices] of restored) this.slots.set(name, devices);
  }

  private route(agent: Agent, line: ObservedLine, start: number, out: Anomaly[]): void {
    this.stats.routed++;
    const devices = this.slots.get(agent.name)!;
    let slot = devices.get(line.device);
    if (!slot) {
      slot = { memory: agent.newMemory(), window: undefined, baselines: new Map() };
      devices.set(line.device, slot);
    }
    if (slot.window && start > slot.window.start) {
      this.close(agent, line.device, slot, out);
    } else if (slot.window && start < slot.window.start) {
      this.stats.late++; // a late line joins the open window rather than reopening a closed one
    }
    slot.window ??= { start, state: agent.newWindow(), refs: [] };
    if (slot.window.refs.length < WINDOW_EVIDENCE) slot.window.refs.push(line.ref);
    agent.observe(slot.window.state, line, slot.memory);
  }

  private closeBefore(limit: number, out: Anomaly[]): void {
    for (const agent of this.agents) {
      for (const [device, slot] of this.slots.get(agent.name)!) {
        if (slot.window && slot.window.start < limit) this.close(agent, device, slot, out);
        else if (!slot.window && agent.idle && limit !== Infinity)
          this.idle(agent, device, slot, limit, out);
      }
    }
  }

  /** A device that sent an agent nothing in the window before `limit`. */
  private idle(
    agent: Agent,
    device: string,
    slot: DeviceSlot,
    limit: number,
    out: Anomaly[],
  ): void {
    const start = limit - this.options.windowMs;
    const info = { device, start, end: limit };
    const windowStart = new Date(start).toISOString();
    const windowEnd = new Date(limit).toISOString();
    for (const f of agent.idle!(info, slot.memory))
      out.push({ agent: agent.name, device, windowStart, windowEnd, ...f });
  }

  private close(agent: Agent, device: string, slot: DeviceSlot, out: Anomaly[]): void {
    const window = slot.window!;
    slot.window = undefined;
    this.stats.windows++;
    const info = { device, start: window.start, end: window.start + this.options.windowMs };
    const { features, findings } = agent.evaluate(window.state, info, slot.memory);
    const all: Finding[] = [...findings];
    for (const [feature, rule] of Object.entries(agent.baselines ?? {})) {
      let baseline = slot.baselines.get(feature);
      if (!baseline) slot.baselines.set(feature, (baseline = new Baseline()));
      const value = features[feature] ?? 0;
      const spike = baseline.observe(value, rule.minimum);
      if (!spike) continue;
      // A rule already explains this window's finding of the same kind: do not report it twice.
      if (findings.some((f) => feature in f.features)) continue;
      all.push({
        type: `${feature}_spike`,
        severity: rule.severity,
        confidence: Math.min(1, Number((spike.z / 8).toFixed(2))),
        score: Number((1 - 1 / spike.z).toFixed(3)),
        description: `${rule.description}: ${value} against a usual ${spike.mean.toFixed(1)} (±${spike.std.toFixed(1)})`,
        features: {
          [feature]: value,
          usual: Number(spike.mean.toFixed(2)),
          z: Number(spike.z.toFixed(2)),
        },
        evidence: [],
      });
    }
    const windowStart = new Date(info.start).toISOString();
    const windowEnd = new Date(info.end).toISOString();
    this.options.onWindow?.({
      agent: agent.name,
      device,
      windowStart,
      windowEnd,
      features,
      evidence: window.refs,
    });
    for (const f of all) out.push({ agent: agent.name, device, windowStart, windowEnd, ...f });
  }
}
