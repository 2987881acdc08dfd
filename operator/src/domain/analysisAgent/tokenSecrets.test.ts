// Issue 21: the namespace's viewer and triager token Secrets hold a key per existing agent and an
// owner reference (not a controller one) to each; others' owner references stay; a gone agent's
// key and reference go; an object of the name the operator did not make is left alone.
import {
  VIEWER_TOKENS_SECRET,
  tokenSecretPlan,
  type AgentToken,
  type TokenSecret,
} from './tokenSecrets.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const dns: AgentToken = { name: 'dns', uid: 'uid-dns', token: 'tok-dns' };
const wifi: AgentToken = { name: 'wifi', uid: 'uid-wifi', token: 'tok-wifi' };
const agentRef = (a: AgentToken) => ({
  apiVersion: 'edgewarden.io/v1alpha1',
  kind: 'AnalysisAgent',
  name: a.name,
  uid: a.uid,
});
const foreignRef = { apiVersion: 'v1', kind: 'ConfigMap', name: 'keep', uid: 'uid-cm' };

function stored(data: Record<string, string>, refs: object[], labelled = true): TokenSecret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: VIEWER_TOKENS_SECRET,
      namespace: 'net',
      resourceVersion: '7',
      ...(labelled ? { labels: { 'app.kubernetes.io/managed-by': 'edgewarden' } } : {}),
      ownerReferences: refs as TokenSecret['metadata']['ownerReferences'],
    },
    type: 'Opaque',
    data,
  };
}

test('none yet: created with a key and a non-controller owner reference per agent', () => {
  const plan = tokenSecretPlan(VIEWER_TOKENS_SECRET, 'net', undefined, [wifi, dns]);
  expect(plan).toEqual({
    action: 'create',
    secret: {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: VIEWER_TOKENS_SECRET,
        namespace: 'net',
        labels: { 'app.kubernetes.io/managed-by': 'edgewarden' },
        ownerReferences: [agentRef(dns), agentRef(wifi)],
      },
      type: 'Opaque',
      data: { dns: b64('tok-dns'), wifi: b64('tok-wifi') },
    },
  });
  if (plan.action !== 'create') throw new Error('create');
  for (const ref of plan.secret.metadata.ownerReferences!) expect(ref.controller).toBeUndefined();
});

test('in step already: nothing to write', () => {
  const existing = stored({ dns: b64('tok-dns') }, [agentRef(dns)]);
  expect(tokenSecretPlan(VIEWER_TOKENS_SECRET, 'net', existing, [dns])).toEqual({
    action: 'none',
  });
});

test('a new agent is added; others’ owner references and the resourceVersion stay', () => {
  const existing = stored({ dns: b64('tok-dns') }, [foreignRef, agentRef(dns)]);
  const plan = tokenSecretPlan(VIEWER_TOKENS_SECRET, 'net', existing, [dns, wifi]);
  if (plan.action !== 'update') throw new Error(plan.action);
  expect(plan.secret.metadata.resourceVersion).toBe('7');
  expect(plan.secret.metadata.ownerReferences).toEqual([foreignRef, agentRef(dns), agentRef(wifi)]);
  expect(plan.secret.data).toEqual({ dns: b64('tok-dns'), wifi: b64('tok-wifi') });
});

test('a deleted agent’s key and owner reference go, and a stale token is replaced', () => {
  const existing = stored({ dns: b64('old'), wifi: b64('tok-wifi') }, [
    agentRef(dns),
    agentRef(wifi),
    foreignRef,
  ]);
  const plan = tokenSecretPlan(VIEWER_TOKENS_SECRET, 'net', existing, [dns]);
  if (plan.action !== 'update') throw new Error(plan.action);
  expect(plan.secret.data).toEqual({ dns: b64('tok-dns') });
  expect(plan.secret.metadata.ownerReferences).toEqual([foreignRef, agentRef(dns)]);
});

test('no agent left: nothing (the garbage collector deletes it with its last owner)', () => {
  const existing = stored({ dns: b64('tok-dns') }, [agentRef(dns)]);
  expect(tokenSecretPlan(VIEWER_TOKENS_SECRET, 'net', existing, [])).toEqual({ action: 'none' });
  expect(tokenSecretPlan(VIEWER_TOKENS_SECRET, 'net', undefined, [])).toEqual({ action: 'none' });
});

test('a Secret of the name without the operator’s label is not written', () => {
  const existing = stored({ mine: b64('x') }, [], false);
  expect(tokenSecretPlan(VIEWER_TOKENS_SECRET, 'net', existing, [dns])).toEqual({
    action: 'foreign',
  });
});
