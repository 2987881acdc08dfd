// Looking inside a pod's container from a test, as an admin would with `kubectl exec` (through
// the API server and the kubelet). The image has no shell: its own Node runs the script.
import { kubectl } from '../integration/kube.js';

/** Runs `script` with the container's Node; its stdout. `input` goes to its stdin. */
export async function nodeInPod(
  namespace: string,
  pod: string,
  container: string | undefined,
  script: string,
  input?: string,
): Promise<string> {
  return kubectl(
    [
      'exec',
      ...(input === undefined ? [] : ['-i']),
      '-n',
      namespace,
      pod,
      ...(container ? ['-c', container] : []),
      '--',
      '/nodejs/bin/node',
      '-e',
      script,
    ],
    input,
  );
}

export interface ContainerProcess {
  argv: string[];
  env: Record<string, string>;
}

/**
 * What a container's main process really runs with, read from /proc/1: the command line the
 * runtime started from the image's entrypoint and the pod's args, and the environment the
 * kubelet gave it.
 */
export async function containerProcess(
  namespace: string,
  pod: string,
  container?: string,
): Promise<ContainerProcess> {
  const script = [
    "const fs = require('fs');",
    "const split = (f) => fs.readFileSync(f, 'utf8').split('\\0').filter(Boolean);",
    "const env = Object.fromEntries(split('/proc/1/environ').map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));",
    "process.stdout.write(JSON.stringify({ argv: split('/proc/1/cmdline'), env }));",
  ].join('\n');
  return JSON.parse(await nodeInPod(namespace, pod, container, script)) as ContainerProcess;
}
