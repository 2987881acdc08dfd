// The V8 heap a container of a given memory limit should run with (quantities are read by
// the API's own quantityBytes).

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
