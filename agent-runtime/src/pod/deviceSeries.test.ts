// The device label set is bounded: the first devices keep their own series, later ones share
// one, and a gauge only ever moves forward in time.
import { DeviceSeries, OTHER_DEVICES } from './deviceSeries.js';

test('each device its own series up to the limit, the rest one shared series', () => {
  const devices = new DeviceSeries(2);
  expect(
    devices.observe(
      new Map([
        ['gw', 1000],
        ['ap-1', 2000],
      ]),
    ),
  ).toEqual(
    new Map([
      ['gw', 1],
      ['ap-1', 2],
    ]),
  );
  // A third and a fourth device share OTHER_DEVICES, which keeps the newest of their times.
  expect(
    devices.observe(
      new Map([
        ['ap-2', 5000],
        ['ap-3', 4000],
      ]),
    ),
  ).toEqual(new Map([[OTHER_DEVICES, 5]]));
  expect(devices.label('ap-3')).toBe(OTHER_DEVICES);
  expect(devices.label('gw')).toBe('gw');
  // Older times never move a gauge back (a late row, or the store's value after a restart).
  expect(
    devices.observe(
      new Map([
        ['gw', 500],
        ['ap-1', 3000],
      ]),
    ),
  ).toEqual(new Map([['ap-1', 3]]));
});
