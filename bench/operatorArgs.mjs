// The operator's command line in the benchmarks: `edgewarden operator` against the test control
// plane's kubeconfig, watching one namespace, its metrics and health ports on free loopback
// ports (the log names them), and an image name kwok never pulls.
export function operatorArgs(kubeconfig, namespace) {
  return [
    'operator',
    '--kubeconfig',
    kubeconfig,
    '--namespace',
    namespace,
    '--metrics-port',
    '0',
    '--health-port',
    '0',
    '--bind-address',
    '127.0.0.1',
    '--agent-image',
    'edgewarden:bench',
  ];
}
