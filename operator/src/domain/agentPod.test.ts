// Agent pods: which are an agent's, the key of their owner, and where their server listens.
import {
  agentAddress,
  agentPodsOf,
  agentRequest,
  agentUrl,
  instanceKey,
  isOwnAgentPod,
  splitByOwner,
  type AgentPod,
} from './agentPod.js';

const pod = (name: string, labels: Record<string, string>, podIP = '10.42.0.7'): AgentPod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'home', labels },
  spec: { containers: [{ name: 'agent', ports: [{ name: 'http', containerPort: 9090 }] }] },
  status: { phase: 'Running', podIP },
});
const agent = (instance: string) => ({
  'app.kubernetes.io/instance': instance,
  'app.kubernetes.io/component': 'agent',
});

test("an agent's pods: its instance, component agent", () => {
  const pods = [
    pod('dns-agent-0', agent('dns')),
    pod('auth-agent-0', agent('auth')),
    pod('dns-export-x', {
      'app.kubernetes.io/instance': 'dns',
      'app.kubernetes.io/component': 'export',
    }),
  ];
  expect(agentPodsOf(pods, 'dns').map((p) => p.metadata.name)).toEqual(['dns-agent-0']);
  expect(instanceKey(pods[0]!)).toEqual(['home/dns']);
  expect(instanceKey(pod('other', {}))).toEqual([]);
});

test('the address is the declared http port at the pod IP, an IPv6 one in brackets', () => {
  expect(agentAddress(pod('a', {}), 8080)).toBe('10.42.0.7:9090');
  expect(agentUrl(pod('a', {}, 'fd00::7'), 8080, '/status')).toBe('http://[fd00::7]:9090/status');
  const bare: AgentPod = { ...pod('b', {}), spec: {} };
  expect(agentRequest(bare, 8080, 'GET', '/status')).toEqual({
    request: { method: 'GET', path: '/status', pod: 'b', address: '10.42.0.7:8080' },
    url: 'http://10.42.0.7:8080/status',
  });
});

test("an agent's own pod: controlled by the StatefulSet its agent controls, both by uid", () => {
  const ref = (kind: string, name: string, uid: string, controller = true) => ({
    apiVersion: 'v1',
    kind,
    name,
    uid,
    controller,
  });
  const set = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: {
      name: 'dns-agent',
      uid: 'set-1',
      ownerReferences: [ref('AnalysisAgent', 'dns', 'agent-1')],
    },
  };
  const owned = (refs?: ReturnType<typeof ref>[]): AgentPod => ({
    ...pod('dns-agent-0', agent('dns')),
    metadata: { name: 'dns-agent-0', labels: agent('dns'), ownerReferences: refs },
  });
  const own = owned([ref('StatefulSet', 'dns-agent', 'set-1')]);
  expect(isOwnAgentPod(own, set, 'agent-1')).toBe(true);
  // The labels alone, another set (or the same name with another uid), a reference that does
  // not control, a set another agent (or nobody) controls, no set seen yet: not the agent's.
  expect(isOwnAgentPod(owned(), set, 'agent-1')).toBe(false);
  expect(isOwnAgentPod(owned([ref('StatefulSet', 'dns-agent', 'set-0')]), set, 'agent-1')).toBe(
    false,
  );
  expect(
    isOwnAgentPod(owned([ref('StatefulSet', 'dns-agent', 'set-1', false)]), set, 'agent-1'),
  ).toBe(false);
  expect(isOwnAgentPod(own, set, 'agent-2')).toBe(false);
  expect(
    isOwnAgentPod(own, { ...set, metadata: { name: 'dns-agent', uid: 'set-1' } }, 'agent-1'),
  ).toBe(false);
  expect(isOwnAgentPod(own, undefined, 'agent-1')).toBe(false);
  expect(isOwnAgentPod(own, set, undefined)).toBe(false);
  const impostor = owned();
  expect(splitByOwner([own, impostor], set, 'agent-1')).toEqual({
    own: [own],
    ignored: [impostor],
  });
});
