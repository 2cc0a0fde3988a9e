import type { SimDeviceInfo } from '../src/sim/rustdesk-client';

// Deterministic benchmark fleets. Devices are described as the client simulator describes
// itself (SimDeviceInfo), so the rows seeded straight into the store are what a heartbeat plus a
// sysinfo upload would have written, and the heartbeat benchmark drives the same IDs and UUIDs.

/** A small seeded PRNG, so every run measures the same data. */
export function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = [
  'anna',
  'bruno',
  'carla',
  'diego',
  'elena',
  'felix',
  'greta',
  'hugo',
  'ines',
  'jonas',
  'karin',
  'luis',
  'marta',
  'nils',
  'olga',
  'pedro',
  'quinn',
  'rosa',
  'sven',
  'tania',
  'ugo',
  'vera',
  'walter',
  'xenia',
  'yusuf',
  'zoe',
];
const OS = ['Windows 11 Pro', 'Windows 10 Pro', 'macOS 15.2', 'Ubuntu 24.04', 'Debian 12', 'Android 14'];
const ALNUM = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';

function word(rand: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALNUM[Math.floor(rand() * ALNUM.length)];
  return s;
}

/**
 * The RustDesk ID of fleet member `i`: 9 digits like a real ID, unique per member (an affine
 * map, bijective on 0…899,999,999), not sequential, so substring filters on IDs behave as on a
 * real fleet.
 */
export function deviceId(i: number): string {
  return String(100_000_000 + ((i * 1_000_003 + 12_345) % 900_000_000));
}

/** A stable UUID per fleet member, so simulated clients are recognised (no sysinfo request). */
export function deviceUuid(i: number): string {
  return Buffer.from(`bench-device-${i}`).toString('base64');
}

/** Fleet member `i`: host names like DESKTOP-7KQ2M4X / MacBook-greta-4 / srv-K3P9-db. */
export function deviceInfo(i: number): Required<Omit<SimDeviceInfo, 'presets'>> {
  const rand = prng(0x5eed + i);
  const os = OS[Math.floor(rand() * OS.length)]!;
  const user = `${FIRST[Math.floor(rand() * FIRST.length)]}${Math.floor(rand() * 1000)}`;
  const hostname = os.startsWith('Windows')
    ? `DESKTOP-${word(rand, 7)}`
    : os.startsWith('macOS')
      ? `MacBook-${user}`
      : os.startsWith('Android')
        ? `tablet-${word(rand, 5)}`
        : `srv-${word(rand, 4)}-${['db', 'web', 'ci', 'k8s'][Math.floor(rand() * 4)]}`;
  return {
    id: deviceId(i),
    uuid: deviceUuid(i),
    hostname,
    username: user,
    os,
    cpu: 'Intel Core i5, 4 cores',
    memory: '8GB',
    version: '1.4.3',
  };
}

/** User `i` of a benchmark fleet: `<first>.<n>` names, so substring filters behave realistically. */
export function userName(prefix: string, i: number): string {
  return `${prefix}${FIRST[i % FIRST.length]}.${i}`;
}
