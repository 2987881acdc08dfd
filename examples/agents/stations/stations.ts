// stations: an example agent, not a built-in one (docs/writing-an-agent.md). It follows each
// Wi-Fi station's sessions on an access point from hostapd's AP-STA-CONNECTED and
// AP-STA-DISCONNECTED lines, and reports a station that keeps losing its session within a
// minute of joining: a deauthentication aimed at one client, a station ping-ponging between two
// access points of one SSID, or a failing driver. The built-in wifi agent counts associations
// per window; this one needs to remember when each session began, across windows, so it also
// shows an agent's per-device memory and how that memory is saved with the store.
import { scoreByRatio, severityByRatio, Tally } from '../../../agent-runtime/src/agents/tally.js';
import type { Agent, AgentName, Finding } from '../../../agent-runtime/src/agents/types.js';

const MAC = /\b([0-9a-f]{2}(?::[0-9a-f]{2}){5})\b/i;
const CONNECTED = 'AP-STA-CONNECTED';
const DISCONNECTED = 'AP-STA-DISCONNECTED';
const ACK_LOSS = 'disconnected due to excessive missing ACKs';
/** A session that ends sooner than this after it began is short. */
export const SHORT_SESSION_MS = 60_000;
/** Short sessions of one station in one window that make a finding. */
export const SHORT_SESSION_BURST = 3;
/** Open sessions remembered per device; the oldest is forgotten first. */
const OPEN_SESSIONS_LIMIT = 1024;

interface State {
  started: number;
  ended: number;
  sessionMs: number;
  short: Tally; // by station
  ackLosses: Tally; // by station
}

/** Per device: station -> when its open session began (ms), oldest first. */
type Memory = Map<string, number>;

const station = (message: string): string | undefined => MAC.exec(message)?.[1]?.toLowerCase();

export const stationsAgent: Agent<State, Memory> = {
  // AgentName is the closed list of built-in agents; registering an agent adds its name there
  // (agent-runtime/src/agents/types.ts) and this cast goes.
  name: 'stations' as AgentName,
  programs: new Set(['hostapd']),
  features: [
    'sessions_started',
    'sessions_ended',
    'short_sessions',
    'ack_losses',
    'mean_session_seconds',
  ],
  baselines: {
    // Many stations with one or two short sessions each: no single station makes the rule
    // fire, the device's own history does.
    short_sessions: {
      minimum: 5,
      severity: 2,
      description: 'unusually many short Wi-Fi sessions',
    },
  },
  newWindow: () => ({
    started: 0,
    ended: 0,
    sessionMs: 0,
    short: new Tally(),
    ackLosses: new Tally(),
  }),
  newMemory: () => new Map(),
  // A Map is not JSON (JSON.stringify gives {}): save it as [station, since] pairs.
  saveMemory: (open) => [...open],
  loadMemory(saved) {
    if (
      !Array.isArray(saved) ||
      !saved.every((e) => Array.isArray(e) && typeof e[0] === 'string' && Number.isFinite(e[1]))
    )
      throw new Error('stations memory: expected a list of [station, since] pairs');
    return new Map(saved as [string, number][]);
  },

  observe(s, { ref, time, record }, open) {
    const m = record.message;
    const mac = station(m);
    if (!mac) return;
    if (m.includes(CONNECTED)) {
      s.started++;
      open.delete(mac); // a reconnect without a disconnect line restarts the session
      open.set(mac, time);
      if (open.size > OPEN_SESSIONS_LIMIT) open.delete(open.keys().next().value!);
    } else if (m.includes(DISCONNECTED)) {
      const since = open.get(mac);
      if (since === undefined) return; // began before we were watching: length unknown
      open.delete(mac);
      const length = Math.max(0, time - since);
      s.ended++;
      s.sessionMs += length;
      if (length < SHORT_SESSION_MS) s.short.add(mac, ref);
    } else if (m.includes(ACK_LOSS)) {
      s.ackLosses.add(mac, ref);
    }
  },

  evaluate(s) {
    const findings: Finding[] = [];
    for (const [mac, n] of s.short.atLeast(SHORT_SESSION_BURST)) {
      findings.push({
        type: 'short_session_burst',
        severity: severityByRatio(n, SHORT_SESSION_BURST, 3),
        confidence: 0.7,
        score: scoreByRatio(n, SHORT_SESSION_BURST),
        description: `station ${mac} lost its Wi-Fi session within a minute ${n} times in one window`,
        features: { short_sessions: n },
        evidence: s.short.refs(mac),
      });
    }
    return {
      features: {
        sessions_started: s.started,
        sessions_ended: s.ended,
        short_sessions: s.short.total(),
        ack_losses: s.ackLosses.total(),
        mean_session_seconds: s.ended === 0 ? 0 : Math.round(s.sessionMs / s.ended / 1000),
      },
      findings,
    };
  },
};
