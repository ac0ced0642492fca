// Redis's own time per command, from INFO commandstats (reset with CONFIG RESETSTAT before a
// measurement): where a single-threaded Redis spends its time per drained event.

/** `usec` per command, as INFO commandstats reports it (cmdstat_<name>:calls=…,usec=…,…). */
export function parseCommandstats(info: string): Map<string, number> {
  const usec = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=\d+,usec=(\d+),/gm)) {
    usec.set(match[1]!, Number(match[2]));
  }
  return usec;
}

/**
 * Microseconds of Redis time per event for each command taking at least `minUs` of it, largest
 * first. Redis times a command from its start to its end, so on a busy machine a command that
 * was preempted counts the wait too; and a command run inside a script (XACK in the commit) is
 * counted both by itself and within the script's EVALSHA.
 */
export function usPerEvent(usec: ReadonlyMap<string, number>, events: number, minUs: number): Record<string, number> {
  const rows = [...usec]
    .map(([name, us]) => [name, us / events] as const)
    .filter(([, us]) => us >= minUs)
    .sort((a, b) => b[1] - a[1]);
  return Object.fromEntries(rows);
}
