// Kubernetes resource quantities as byte counts ("100Mi", "1G", "268435456"), for the API's
// size fields (ExportJob maxFileSize, container memory limits).
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

/**
 * Whole bytes of a quantity, or undefined if it is not one or is not positive: a negative size
 * ("-1Mi", -1) is refused here as the schema refuses it (issue 20), never read as zero or as its
 * absolute value.
 */
export function quantityBytes(quantity: string | number | undefined): number | undefined {
  if (quantity === undefined) return undefined;
  if (typeof quantity === 'number')
    return Number.isFinite(quantity) && quantity > 0 ? Math.floor(quantity) : undefined;
  const m = /^(\d+(?:\.\d+)?)(k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(quantity.trim());
  if (!m) return undefined;
  const bytes = Math.floor(Number(m[1]) * SUFFIX[m[2] ?? '']!);
  return bytes > 0 ? bytes : undefined;
}
