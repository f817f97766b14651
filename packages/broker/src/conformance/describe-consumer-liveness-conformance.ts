import { expect, it } from 'vitest';
import type { Broker } from '../broker.js';
import { conformanceRequest as request, consumeOptions, until } from './conformance-fixtures.js';

/**
 * The consumer's liveness signals, `lastPollAtMs` and `pollDue`: called inside `describeBrokerConformance`'s
 * `describe`. A worker's liveness probe trusts them, so an idle consumer must keep polling and a busy or paused one
 * must say that no poll is due.
 */
export function describeConsumerLivenessConformance(createBroker: () => Broker): void {
  it('keeps polling while idle, and has no poll due while paused or with every slot busy', { timeout: 40_000 }, async () => {
    const broker = createBroker();
    let release: () => void = () => {};
    const consumer = await broker.consume(() => new Promise((resolve) => (release = () => resolve('done'))), consumeOptions);
    try {
      await until(() => consumer.lastPollAtMs !== undefined, 10_000);
      expect(consumer.pollDue).toBe(true);
      // Idle, with no job at all: a later poll must still come, or a liveness probe would kill an idle worker.
      const first = consumer.lastPollAtMs!;
      await until(() => consumer.lastPollAtMs! > first, 15_000);
      expect(Date.now() - consumer.lastPollAtMs!).toBeLessThan(1_000);

      await consumer.pause();
      expect(consumer.pollDue).toBe(false);
      await consumer.resume();
      expect(consumer.pollDue).toBe(true);

      const job = await broker.enqueue(request());
      await until(() => !consumer.pollDue, 10_000); // its one slot is busy: nothing to fetch for
      release();
      await broker.waitForJob(job.id, 10_000);
      await until(() => consumer.pollDue, 5_000);
    } finally {
      release();
      await consumer.close(5_000);
    }
  });
}
