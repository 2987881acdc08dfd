// `key=value[,key=value...]` as the operator's label options take it (the equality form of
// kubectl's -l), checked against the API server's rules for label keys and values, so a bad
// selector stops the operator at start rather than making NetworkPolicies the server refuses.
const NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;
const PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function validKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  if (slash < 0) return NAME.test(key);
  const prefix = key.slice(0, slash);
  return prefix.length <= 253 && PREFIX.test(prefix) && NAME.test(key.slice(slash + 1));
}

/** The labels of `text`, or what is wrong with it; '' is no labels (it selects every pod). */
export function parseMatchLabels(text: string): Record<string, string> | string {
  const labels: Record<string, string> = {};
  for (const pair of text.split(',').map((p) => p.trim())) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? undefined : pair.slice(eq + 1);
    if (value === undefined) return `"${pair}" is not key=value`;
    if (!validKey(key)) return `"${key}" is not a label key`;
    if (value !== '' && !NAME.test(value)) return `"${value}" is not a label value`;
    labels[key] = value;
  }
  return labels;
}
