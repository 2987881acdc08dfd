// Per-device metrics with a bounded label set. A device label is what lets an admin see which
// router went quiet or is under attack, but each value is a time series in Prometheus: a
// misconfigured collector that puts, say, a client address in the host field must not create
// one series per client. The first `max` devices keep their own series; any beyond share one.

export const OTHER_DEVICES = '_other';
/** Enough for a small ISP's routers and access points; a home lab has a handful. */
export const MAX_DEVICE_SERIES = 1000;

export class DeviceSeries {
  private readonly lastLineMs = new Map<string, number>();

  constructor(private readonly max = MAX_DEVICE_SERIES) {}

  /** The label a device's series carries: its own name, or OTHER_DEVICES once `max` are taken. */
  label(device: string): string {
    if (this.lastLineMs.has(device)) return device;
    const own = this.lastLineMs.size - (this.lastLineMs.has(OTHER_DEVICES) ? 1 : 0);
    return own < this.max ? device : OTHER_DEVICES;
  }

  /**
   * Records the newest line read from each device; returns the labels whose newest time moved,
   * with that time in seconds (what the gauge is set to).
   */
  observe(newest: ReadonlyMap<string, number>): Map<string, number> {
    const moved = new Map<string, number>();
    for (const [device, ms] of newest) {
      const label = this.label(device);
      if (ms > (this.lastLineMs.get(label) ?? -Infinity)) {
        this.lastLineMs.set(label, ms);
        moved.set(label, ms / 1000);
      }
    }
    return moved;
  }
}
