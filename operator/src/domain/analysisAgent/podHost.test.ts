import { agentPodHost } from './podHost.js';
import { agentChildren } from './desired.js';

test("an agent pod's DNS name is its StatefulSet pod name under the agent's headless Service", () => {
  expect(agentPodHost('dns', 'dns-agent-0', 'home')).toBe('dns-agent-0.dns-agent.home.svc');
});

test('the Service it names is the one the StatefulSet governs, and it is headless', () => {
  const children = agentChildren(
    {
      apiVersion: 'edgewarden.io/v1alpha1',
      kind: 'AnalysisAgent',
      metadata: { name: 'dns', namespace: 'home', uid: 'u1', generation: 1 },
      spec: { agent: 'dns', source: { secretRef: { name: 'db' } } },
    } as never,
    { image: 'edgewarden:test' } as never,
  ) as unknown as {
    service: {
      metadata: { name: string };
      spec: { clusterIP: string; publishNotReadyAddresses: boolean };
    };
    statefulSet: { spec: { serviceName: string } };
  };
  const [, service] = agentPodHost('dns', 'dns-agent-0', 'home').split('.');
  expect(children.statefulSet.spec.serviceName).toBe(service);
  expect(children.service.metadata.name).toBe(service);
  expect(children.service.spec).toMatchObject({
    clusterIP: 'None',
    publishNotReadyAddresses: true,
  });
});
