// wifi: hostapd and wpa_supplicant. The window's features (wrong passwords, deauthentications,
// associations, distinct stations) for models, and baselines of stations and associations.
// Wrong-password bursts, deauthentication floods, association churn and the drivers' crashes
// are rules of the openwrt-wifi pack (agent-runtime/rules/).
import { Tally } from './tally.js';
import type { Agent } from './types.js';

const MAC = /\b([0-9a-f]{2}(?::[0-9a-f]{2}){5})\b/i;

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
    const deauths = s.deauth.total();
    return {
      features: {
        lines: s.lines,
        psk_mismatches: s.psk.total(),
        deauths,
        associations: s.assoc.total(),
        distinct_stations: s.stations.size,
      },
      findings: [],
    };
  },
};
