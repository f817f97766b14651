/**
 * Binary payloads: a Float32Array of 1, 16 and 64 MiB through celeriac (enqueue + getJob) and through raw SET + GET.
 *
 * Run it with `npm run bench -- payload [--repeats 5] [--sizes-mib 1,16,64]`. The same measurement is the `payload`
 * part of `npm run bench -- gpu`; it is a benchmark of its own too because it needs no GPU, so `npm run bench` runs
 * it on every machine. Set `REDIS_URL` to use an existing server; otherwise a private redis-server without
 * persistence is spawned. The ratio is raw time / celeriac time (celeriac's MB/s over raw's).
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { BenchStatus, type BenchReport, type BenchRunOptions } from './lib/bench-report.js';
import { positiveInteger } from './lib/positive-integer.js';
import { describeRedisTarget, openRedisTarget } from './lib/redis-target.js';
import { measurePayloadRoundTrips } from './gpu/payload-round-trips.js';

/** Runs the payload benchmark and returns its report; see the file's opening comment. */
export async function run({ args, quick, log }: BenchRunOptions): Promise<BenchReport> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      repeats: { type: 'string', default: quick ? '2' : '5' },
      'sizes-mib': { type: 'string', default: quick ? '1,16' : '1,16,64' },
    },
  });
  const repeats = positiveInteger('--repeats', values.repeats);
  const sizesMiB = values['sizes-mib'].split(',').map((text) => positiveInteger('--sizes-mib', text.trim()));
  const target = await openRedisTarget();
  try {
    const redis = await describeRedisTarget(target);
    log(`${sizesMiB.join(', ')} MiB, median of ${repeats} round trip(s) per side and size; redis ${redis}`);
    const prefix = `bench-payload-${randomBytes(3).toString('hex')}`;
    const section = await measurePayloadRoundTrips({ target, prefix, repeats, sizesMiB, log });
    return {
      name: 'payload',
      title: 'Binary payload round trip',
      baseline: 'raw ioredis SET + GET (getBuffer) of the same bytes, same Redis',
      command: `npm run bench -- payload --repeats ${repeats} --sizes-mib ${sizesMiB.join(',')}`,
      redis,
      environment: [`median of ${repeats} round trip(s) per side and size, alternating which side goes first`],
      status: BenchStatus.Ok,
      reason: undefined,
      figures: section.figures,
      sections: [{ ...section, notes: [...section.notes, '⚠ marks a missed target.'] }],
    };
  } finally {
    await target.close();
  }
}
