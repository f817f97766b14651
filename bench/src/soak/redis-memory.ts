import type { Redis } from 'ioredis';

/** `used_memory` from `INFO memory`: the bytes Redis's allocator holds for data, buffers and scripts. */
export async function readUsedMemory(admin: Redis): Promise<number> {
  const info = await admin.info('memory');
  const value = /^used_memory:(\d+)/m.exec(info)?.[1];
  if (value === undefined) throw new Error('INFO memory has no used_memory field');
  return Number(value);
}

/**
 * `MEMORY USAGE key SAMPLES 0` (every element counted, not sampled): the bytes one key takes; 0 for no key. Used to
 * tell a queue's event stream, which BullMQ caps at about 10,000 entries whatever the retention, from the jobs.
 */
export async function readKeyMemory(admin: Redis, key: string): Promise<number> {
  const reply = await admin.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
  return typeof reply === 'number' ? reply : 0;
}
