// The built-in agents. Adding one is a new file and one line here; the engine is untouched.
import { authAgent } from './auth.js';
import { dnsAgent } from './dns.js';
import { firewallAgent } from './firewall.js';
import { systemAgent } from './system.js';
import { templateAgent } from './template.js';
import type { Agent, AgentName } from './types.js';
import { wifiAgent } from './wifi.js';

export const builtInAgents: Readonly<Record<AgentName, Agent>> = {
  wifi: wifiAgent,
  dns: dnsAgent,
  auth: authAgent,
  firewall: firewallAgent,
  system: systemAgent,
  template: templateAgent,
};

export const agentNames = Object.keys(builtInAgents) as AgentName[];

export function isAgentName(name: string): name is AgentName {
  return Object.hasOwn(builtInAgents, name);
}
