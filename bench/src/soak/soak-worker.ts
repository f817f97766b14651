/**
 * The soak's worker process: one `createWorker` running a no-op task, reporting its own memory to the parent over
 * IPC. It runs apart from the producer so its RSS is the worker's alone (a producer holding 200,000 job handles would
 * hide or fake a leak), and with `--expose-gc` so the parent can ask for a reading after a full GC.
 * @packageDocumentation
 */
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { createWorker } from '@celeriac/worker';
import { soakQueue, type MemorySample, type ParentMessage, type SoakWorkerSettings, type WorkerMessage } from './soak-messages.js';
import { defineCountingNoopTask } from '../lib/counting-noop-task.js';

const settings = JSON.parse(process.argv[2] ?? '{}') as SoakWorkerSettings;
let processed = 0;

const noop = defineCountingNoopTask('soak-noop', soakQueue, () => processed++);

function send(message: WorkerMessage): void {
  process.send?.(message);
}

function sample(): MemorySample {
  const { rss, heapUsed, external } = process.memoryUsage();
  return { atMs: performance.now(), processed, rss, heapUsed, external };
}

/** A reading after two full collections: the second frees what the first's finalisers released. */
function settledSample(): MemorySample {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('the soak worker needs --expose-gc');
  gc();
  gc();
  return sample();
}

const worker = createWorker({
  tasks: [noop],
  connection: settings.url,
  prefix: settings.prefix,
  concurrency: settings.concurrency,
  logger: pino({ level: 'silent' }),
});

process.on('message', (message: ParentMessage) => {
  if (message.type === 'settle') send({ type: 'settled', sample: settledSample() });
  if (message.type === 'stop') {
    clearInterval(timer);
    // Disconnecting the IPC channel lets the process exit once the worker's connections are closed.
    void worker.close().finally(() => process.disconnect());
  }
});

const timer = setInterval(() => send({ type: 'sample', sample: sample() }), settings.sampleIntervalMs);
try {
  await worker.start();
  send({ type: 'ready', sample: settledSample() });
} catch (error) {
  send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  clearInterval(timer);
  await worker.close();
  process.disconnect();
}
