// Kubernetes resource quantities, as far as the operator needs them: memory in bytes, and the
// V8 heap a container of that size should run with.

const SUFFIX: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

/** Bytes of a memory quantity ("256Mi", "1G", "268435456"); undefined if it is not one. */
export function memoryBytes(quantity: string | number | undefined): number | undefined {
  if (quantity === undefined) return undefined;
  if (typeof quantity === 'number') return quantity;
  const m = /^(\d+(?:\.\d+)?)(k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(quantity.trim());
  if (!m) return undefined;
  return Number(m[1]) * SUFFIX[m[2] ?? '']!;
}

/**
 * The old-generation heap (MB) for a container memory limit: a quarter of it, at least 48 and
 * at most 1024 MB. The rest is V8's young generation, native memory and the ONNX runtime. The
 * agent keeps about 25 MB live (bench/analyze); left unbounded V8 lets the heap grow to about
 * 100 MB before collecting (185 MB RSS), while at 64-96 MB the process stays near 120 MB RSS.
 */
export function heapMegabytes(limitBytes: number | undefined): number | undefined {
  if (limitBytes === undefined) return undefined;
  return Math.max(48, Math.min(1024, Math.floor((limitBytes * 0.25) / 1024 ** 2)));
}
