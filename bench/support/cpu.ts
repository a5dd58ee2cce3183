import { readdirSync, readFileSync } from 'node:fs';
import { readCpuMs } from './processes.js';

/** Groups of processes whose CPU time is measured per phase, e.g. { api: [pid], postgres: [...] }. */
export type ProcessGroups = Record<string, () => number[]>;

/** pids whose command line contains every one of these strings. */
export function pidsMatching(...parts: string[]): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (parts.every((part) => cmdline.includes(part))) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

/** All PostgreSQL server processes (every database's backends, so other load on the server counts too). */
export function postgresPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

export type CpuSnapshot = Map<string, Map<number, number>>;

export function cpuSnapshot(groups: ProcessGroups): CpuSnapshot {
  const snapshot: CpuSnapshot = new Map();
  for (const [name, pids] of Object.entries(groups)) {
    const perPid = new Map<number, number>();
    for (const pid of pids()) {
      const ms = readCpuMs(pid);
      if (ms !== undefined) perPid.set(pid, ms);
    }
    snapshot.set(name, perPid);
  }
  return snapshot;
}

/** CPU ms used by each group between two snapshots (processes that appeared in between count from 0). */
export function cpuUsed(before: CpuSnapshot, after: CpuSnapshot): Record<string, number> {
  const used: Record<string, number> = {};
  for (const [name, perPid] of after) {
    let total = 0;
    for (const [pid, ms] of perPid) total += ms - (before.get(name)?.get(pid) ?? 0);
    used[name] = total;
  }
  return used;
}
