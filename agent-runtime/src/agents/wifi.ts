// wifi: hostapd and wpa_supplicant. Wrong-password bursts, deauthentication and disassociation
// floods, association churn, and an unusual number of distinct stations.
import { scoreByRatio, severityByRatio, Tally } from './tally.js';
import type { Agent, Finding } from './types.js';

const MAC = /\b([0-9a-f]{2}(?::[0-9a-f]{2}){5})\b/i;
const PSK_BURST = 3; // wrong-password attempts by one station in one window that make a burst
const DEAUTH_FLOOD = 20; // deauthentications / disassociations in one window (not for inactivity)
const CHURN = 8; // (re)associations of one station in one window

interface State {
  psk: Tally;
  deauth: Tally;
  assoc: Tally;
  stations: Set<string>;
  lines: number;
}

export const wifiAgent: Agent<State, null> = {
  name: 'wifi',
  features: ['lines', 'psk_mismatches', 'deauths', 'associations', 'distinct_stations'],
  programs: new Set(['hostapd', 'wpa_supplicant']),
  baselines: {
    distinct_stations: {
      minimum: 10,
      severity: 2,
      description: 'unusually many distinct Wi-Fi stations',
    },
    associations: { minimum: 30, severity: 2, description: 'unusually many Wi-Fi associations' },
  },
  newWindow: () => ({
    psk: new Tally(),
    deauth: new Tally(),
    assoc: new Tally(),
    stations: new Set(),
    lines: 0,
  }),
  newMemory: () => null,

  observe(s, { ref, record }) {
    s.lines++;
    const m = record.message;
    const mac = MAC.exec(m)?.[1]?.toLowerCase();
    if (m.includes('AP-STA-POSSIBLE-PSK-MISMATCH') || m.includes('WRONG_KEY')) {
      s.psk.add(mac ?? 'unknown', ref);
    } else if (m.includes('AP-STA-CONNECTED') || m.includes('associated (aid')) {
      if (mac) {
        s.stations.add(mac);
        if (m.includes('AP-STA-CONNECTED')) s.assoc.add(mac, ref);
      }
    } else if (
      (m.includes('deauthenticated') || m.includes('disassociated')) &&
      !m.includes('due to inactivity')
    ) {
      s.deauth.add(mac ?? 'unknown', ref);
    } else if (m.includes('CTRL-EVENT-DISCONNECTED') && /reason=(?:2|3|6|7)\b/.test(m)) {
      s.deauth.add(mac ?? 'unknown', ref);
    }
  },

  evaluate(s) {
    const findings: Finding[] = [];
    for (const [mac, n] of s.psk.atLeast(1)) {
      const burst = n >= PSK_BURST;
      findings.push({
        type: burst ? 'psk_mismatch_burst' : 'psk_mismatch',
        severity: burst ? severityByRatio(n, PSK_BURST, 3) : 3,
        confidence: burst ? 0.9 : 0.6,
        score: scoreByRatio(n, PSK_BURST),
        description: burst
          ? `${n} wrong Wi-Fi password attempts from station ${mac}`
          : `${n > 1 ? `${n} wrong Wi-Fi passwords` : 'wrong Wi-Fi password'} (possible PSK mismatch) from station ${mac}`,
        features: { psk_mismatches: n },
        evidence: s.psk.refs(mac),
      });
    }
    const deauths = s.deauth.total();
    if (deauths >= DEAUTH_FLOOD) {
      findings.push({
        type: 'deauth_flood',
        severity: severityByRatio(deauths, DEAUTH_FLOOD, 4),
        confidence: 0.85,
        score: scoreByRatio(deauths, DEAUTH_FLOOD),
        description: `${deauths} deauthentications/disassociations of ${s.deauth.size} stations in one window`,
        features: { deauths, deauth_stations: s.deauth.size },
        evidence: s.deauth.allRefs(),
      });
    }
    for (const [mac, n] of s.assoc.atLeast(CHURN)) {
      findings.push({
        type: 'association_churn',
        severity: severityByRatio(n, CHURN, 3),
        confidence: 0.7,
        score: scoreByRatio(n, CHURN),
        description: `station ${mac} associated ${n} times in one window`,
        features: { associations: n },
        evidence: s.assoc.refs(mac),
      });
    }
    return {
      features: {
        lines: s.lines,
        psk_mismatches: s.psk.total(),
        deauths,
        associations: s.assoc.total(),
        distinct_stations: s.stations.size,
      },
      findings,
    };
  },
};
