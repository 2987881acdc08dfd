// The openwrt-wifi pack (agent-runtime/rules/openwrt-wifi.yaml) beyond single lines: bursts that
// supersede their single events, the flood and churn thresholds, per-device crash findings and
// the crash loop, the AP-DISABLED absence keyed by radio, many stations failing handshakes, and
// the real OpenWrt sample (its genuine PSK mismatches reported, nothing else above severity 2).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { AnalysisEngine } from '../agents/engine.js';
import type { Anomaly } from '../agents/types.js';
import { wifiAgent } from '../agents/wifi.js';
import { analyzeLines } from '../analyze/analyzeLines.js';
import { compilePacks, readPack } from './packFiles.js';
import { buildRuleSet } from './ruleSet.js';
import { RuleBook, withRules } from './withRules.js';
import { pushLines } from '../../../test/fixtures/engineLines.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const MINUTE = 60_000;
const T0 = Date.parse('2026-03-02T10:00:00Z');

const rules = compilePacks([await readPack(path.join(here, '../../rules/openwrt-wifi.yaml'))]);
const newBook = () => new RuleBook(buildRuleSet(rules), 5 * MINUTE);

/** logread's date: ctime(), "Mon Mar  2 10:00:00 2026". */
function ctime(ms: number): string {
  const d = new Date(ms);
  const utc = d.toUTCString(); // "Mon, 02 Mar 2026 10:00:00 GMT"
  const day = String(d.getUTCDate()).padStart(2, ' ');
  return `${utc.slice(0, 3)} ${utc.slice(8, 11)} ${day} ${d.toISOString().slice(11, 19)} ${d.getUTCFullYear()}`;
}

/** Lines "facility.level program: message" at offsets from T0, through the wifi agent with this pack. */
function run(lines: [offsetMs: number, line: string][]): Anomaly[] {
  const engine = new AnalysisEngine([withRules(wifiAgent, newBook())], { windowMs: 5 * MINUTE });
  const raw = lines.map(([offset, text]) => `${ctime(T0 + offset)} ${text}`);
  return pushLines(engine, raw, new Date(T0 + 86_400_000)).filter((a) => a.rule !== undefined);
}

const summary = (found: Anomaly[]) => found.map((a) => `${a.rule} ${a.type} ${a.severity}`).sort();

const psk = (mac: string) => `daemon.notice hostapd: wlan0: AP-STA-POSSIBLE-PSK-MISMATCH ${mac}`;
const kernel = (message: string, level = 'err') =>
  `kern.${level} kernel: [ 8412.337105] ${message}`;

test('the real OpenWrt sample: its PSK mismatches are reported at 3, nothing else of the pack above 2', async () => {
  const sample = readFileSync(path.join(here, '../../data/openwrt/logread-sample.log'), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
  const found: Anomaly[] = [];
  await analyzeLines([sample.map((l, i) => [i + 1, l] as [number, string])], {
    agents: [withRules(wifiAgent, newBook())],
    windowMs: 5 * MINUTE,
    defaultHost: 'gw-home',
    onAnomaly: (a) => found.push(a),
  });
  const mine = found.filter((a) => a.rule !== undefined);
  expect(
    mine
      .filter((a) => a.severity > 2)
      .map((a) => [a.rule, a.description])
      .sort(),
  ).toEqual([
    [
      'wifi.hostapd-psk-mismatch',
      'wrong Wi-Fi password (possible PSK mismatch) from station c0:d0:12:7e:bc:97 on wlan0',
    ],
    [
      'wifi.hostapd-psk-mismatch-burst',
      '4 wrong Wi-Fi password attempts from station 1a:f8:d6:90:52:b9 on wlan0 within 5m',
    ],
  ]);
  for (const a of mine.filter((f) => f.severity > 2))
    for (const ref of a.evidence)
      expect(sample[Number(ref) - 1]).toContain('AP-STA-POSSIBLE-PSK-MISMATCH');
});

test('PSK: a burst of one station supersedes its single events and escalates; another station stays single', () => {
  const lines: [number, string][] = [];
  for (let i = 0; i < 9; i++) lines.push([i * 5000, psk('02:00:5e:10:00:01')]);
  lines.push([50_000, psk('02:00:5e:10:00:02')]);
  expect(summary(run(lines))).toEqual([
    'wifi.hostapd-psk-mismatch psk_mismatch 3',
    'wifi.hostapd-psk-mismatch-burst psk_mismatch_burst 4',
  ]);
});

test('deauthentication flood: 20 in a window, inactivity timeouts left out', () => {
  const deauth = (i: number) =>
    `daemon.info hostapd: wlan0: STA 02:00:5e:10:00:${(10 + (i % 12)).toString(16).padStart(2, '0')} IEEE 802.11: deauthenticated due to local deauth request`;
  const idle = (i: number) =>
    `daemon.info hostapd: wlan0: STA 02:00:5e:10:01:${(10 + i).toString(16)} IEEE 802.11: deauthenticated due to inactivity (timer DEAUTH/REMOVE)`;
  const quiet: [number, string][] = [];
  for (let i = 0; i < 19; i++) quiet.push([i * 1000, deauth(i)]);
  for (let i = 0; i < 30; i++) quiet.push([i * 1000 + 500, idle(i)]);
  expect(run(quiet)).toEqual([]);
  const flood: [number, string][] = [];
  for (let i = 0; i < 45; i++) flood.push([i * 1000, deauth(i)]);
  expect(summary(run(flood))).toEqual(['wifi.hostapd-deauth-flood deauth_flood 5']);
});

test('association churn: one station connecting 8 times in a window', () => {
  const connect = (mac: string) => `daemon.notice hostapd: wlan0: AP-STA-CONNECTED ${mac}`;
  const lines: [number, string][] = [];
  for (let i = 0; i < 8; i++) lines.push([i * 30_000, connect('02:00:5e:10:00:03')]);
  for (let i = 0; i < 7; i++) lines.push([i * 30_000 + 100, connect('02:00:5e:10:00:04')]);
  expect(run(lines).map((a) => a.description)).toEqual([
    'station 02:00:5e:10:00:03 connected 8 times within 5m (on wlan0)',
  ]);
});

test('a firmware crash: one finding per device, however many lines; three restarts in an hour are a crash loop', () => {
  const crash = kernel(
    'ath10k_pci 0000:01:00.0: firmware crashed! (guid 1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d)',
  );
  const restart = kernel('ieee80211 phy0: Hardware restart was requested', 'info');
  const once = run([
    [0, crash],
    [100, restart],
    [1000, crash],
    [1100, restart],
  ]);
  expect(summary(once)).toEqual([
    'wifi.ath10k-firmware-crash wifi_firmware_crash 4',
    'wifi.mac80211-hardware-restart wifi_hardware_restart 3',
  ]);
  // Three crashes 20 minutes apart: the third window's findings are the loop's (per device key).
  const loop = run(
    [0, 20, 40].flatMap((m): [number, string][] => [
      [m * MINUTE, crash],
      [m * MINUTE + 100, restart],
    ]),
  );
  expect(summary(loop)).toEqual([
    'wifi.ath10k-firmware-crash wifi_firmware_crash 4',
    'wifi.ath10k-firmware-crash wifi_firmware_crash 4',
    'wifi.mac80211-hardware-restart wifi_hardware_restart 3',
    'wifi.mac80211-hardware-restart wifi_hardware_restart 3',
    'wifi.radio-crash-repeated wifi_crash_loop 4',
    'wifi.radio-crash-repeated wifi_crash_loop 4',
  ]);
});

test('a remoteproc crash and its q6v5 line are one finding for the same processor', () => {
  const found = run([
    [0, kernel('qcom-q6v5-wcss-pil cd00000.remoteproc: fatal error received: example.c:1:assert')],
    [10, kernel('remoteproc remoteproc0: crash detected in cd00000.remoteproc: type fatal error')],
  ]);
  expect(found.map((a) => [a.rule, a.description])).toEqual([
    [
      'wifi.remoteproc-crash',
      'remote processor cd00000.remoteproc crashed (on Qualcomm IPQ routers: the Wi-Fi firmware)',
    ],
  ]);
});

test('ath9k DMA stop failures: one is routine, three in an hour are reported', () => {
  const dma = kernel(
    'ath: phy0: DMA failed to stop in 10 ms AR_CR=0x00000024 AR_DIAG_SW=0x02000020 DMADBG_7=0x00008040',
  );
  expect(run([[0, dma]])).toEqual([]);
  expect(
    summary(
      run([
        [0, dma],
        [15 * MINUTE, dma],
        [40 * MINUTE, dma],
      ]),
    ),
  ).toEqual(['wifi.ath9k-dma-stop-failure wifi_dma_stuck 3']);
});

test('AP-DISABLED: a reload that re-enables the radio is quiet, a radio left disabled is reported at 2', () => {
  const note = (text: string) => `daemon.notice hostapd: ${text}`;
  const keepAlive = (m: number): [number, string] => [
    m * MINUTE,
    `daemon.info hostapd: phy0-ap0: STA 02:00:5e:10:00:0${m % 10} IEEE 802.11: authenticated`,
  ];
  const reload: [number, string][] = [
    [0, note('phy0-ap1: AP-DISABLED')],
    [10, note('phy0-ap0: AP-DISABLED')],
    [3000, note('phy0-ap0: interface state COUNTRY_UPDATE->ENABLED')],
    [3001, note('phy0-ap0: AP-ENABLED')],
    ...[5, 10, 15, 20, 25].map(keepAlive),
  ];
  expect(run(reload)).toEqual([]);
  const left: [number, string][] = [
    [0, note('wlan1-1: AP-DISABLED')],
    [5, note('wlan1: AP-DISABLED')],
    ...[5, 10, 15, 20, 25].map(keepAlive),
  ];
  const found = run(left);
  expect(found.map((a) => [a.rule, a.severity, a.description])).toEqual([
    [
      'wifi.hostapd-ap-disabled',
      2,
      'access point on radio wlan1 was disabled and not re-enabled within 15m',
    ],
  ]);
});

test('handshake failures: one station is informational, five stations on one interface are reported', () => {
  const failed = (n: number, iface = 'phy0-ap0') =>
    `daemon.info hostapd: ${iface}: STA 02:00:5e:10:02:0${n} WPA: group key handshake failed (RSN) after 4 tries`;
  expect(summary(run([[0, failed(1)]]))).toEqual([
    'wifi.hostapd-group-key-failure group_key_handshake_failure 2',
  ]);
  const many: [number, string][] = [1, 2, 3, 4, 5].map((n) => [n * MINUTE, failed(n)]);
  const found = run(many);
  expect(found.filter((a) => a.severity >= 3).map((a) => a.rule)).toEqual([
    'wifi.hostapd-handshake-failures-many-stations',
  ]);
});

test('the uplink: a wrong key is reported once per interface and window; association rejects need five', () => {
  const wpa = (text: string) => `daemon.notice wpa_supplicant[1875]: phy0-sta0: ${text}`;
  const wrong: [number, string][] = [
    [0, wpa('WPA: 4-Way Handshake failed - pre-shared key may be incorrect')],
    [
      10,
      wpa(
        'CTRL-EVENT-SSID-TEMP-DISABLED id=0 ssid="example-uplink" auth_failures=1 duration=10 reason=WRONG_KEY',
      ),
    ],
  ];
  expect(run(wrong).map((a) => [a.rule, a.type, a.severity])).toEqual([
    ['wifi.wpa-supplicant-wrong-key', 'psk_mismatch', 3],
  ]);
  const reject = wpa('CTRL-EVENT-ASSOC-REJECT bssid=02:00:5e:20:00:01 status_code=17');
  expect(run([0, 1, 2, 3].map((i): [number, string] => [i * 20_000, reject]))).toEqual([]);
  expect(
    run([0, 1, 2, 3, 4].map((i): [number, string] => [i * 20_000, reject])).map(
      (a) => a.description,
    ),
  ).toEqual(['the Wi-Fi uplink phy0-sta0 was refused association 5 times within 5m (status 17)']);
});
