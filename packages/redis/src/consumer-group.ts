import type { Redis } from 'ioredis';
import { ANALYZER_GROUP } from './keys.js';

/**
 * Creates the analyzer group at id 0 (so events sent before any analyzer ran are read) and the
 * stream with it. Whichever process starts first does it; BUSYGROUP means it already exists.
 * @returns whether this call created the group
 */
export async function ensureGroup(redis: Redis, streamKey: string): Promise<boolean> {
  try {
    await redis.xgroup('CREATE', streamKey, ANALYZER_GROUP, '0', 'MKSTREAM');
    return true;
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('BUSYGROUP')) return false;
    throw err;
  }
}

export interface GroupInfo {
  readonly consumers: number;
  /** Delivered, not yet acknowledged. */
  readonly pending: number;
  readonly lastDeliveredId: string;
  /** Not yet delivered; null when Redis cannot tell (XINFO's lag is null after XDEL or XSETID). */
  readonly lag: number | null;
}

/** The analyzer group's XINFO GROUPS line, or null when the stream or group does not exist. */
export async function readGroupInfo(redis: Redis, streamKey: string): Promise<GroupInfo | null> {
  let groups: unknown[];
  try {
    groups = (await redis.xinfo('GROUPS', streamKey)) as unknown[];
  } catch (err) {
    if (err instanceof Error && /no such key/i.test(err.message)) return null;
    throw err;
  }
  for (const group of groups) {
    const fields = toRecord(group as unknown[]);
    if (fields.name !== ANALYZER_GROUP) continue;
    return {
      consumers: Number(fields.consumers),
      pending: Number(fields.pending),
      lastDeliveredId: String(fields['last-delivered-id']),
      lag: fields.lag === null || fields.lag === undefined ? null : Number(fields.lag),
    };
  }
  return null;
}

/**
 * Entries accepted and not yet committed: lag + pending. When Redis cannot compute the lag, the
 * stream length stands in for it, an over-estimate that errs towards backpressure.
 */
export async function readBacklog(redis: Redis, streamKey: string): Promise<{ backlog: number; info: GroupInfo } | null> {
  const info = await readGroupInfo(redis, streamKey);
  if (!info) return null;
  const lag = info.lag ?? (await redis.xlen(streamKey));
  return { backlog: lag + info.pending, info };
}

function toRecord(flat: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1];
  return out;
}
