import { isCeleriacError, type JobRecord } from '@celeriac/core';
import type { Client } from '@celeriac/client';
import { dotProduct, scatterGatherDot } from '@celeriac/examples';
import { apiRequest } from '../internal/api-request.js';
import type { ApiTarget } from '../internal/connection-flags.js';
import { referenceDot, seededVector } from './seeded-vector.js';

/** Vector length of the demo's GPU dot product. */
export const demoVectorLength = 1 << 20;

/**
 * Accepted relative error of the f32 GPU dot product against the float64 reference: a tree reduction of 2^20
 * products accumulates error of order log2(n) · 2^-24 ≈ 1.2e-6 per unit of Σ|x·y|, and the inputs here have
 * Σ|x·y| ≈ 100 × |x·y|, so 1e-3 leaves a wide margin while still catching a wrong kernel.
 */
export const demoRelativeTolerance = 1e-3;

/**
 * Runs the sample jobs against a running `celeriac dev`: `add` over HTTP (so its id can be fetched with curl), a
 * GPU dot product of two 2^20-element vectors through the SDK, and the same product as a scatter/gather workflow
 * (a chord of GPU reductions), both checked against the JS reference. Prints as it goes; resolves to whether every
 * check passed.
 */
export async function runDemo(api: ApiTarget, client: Client): Promise<boolean> {
  const apiUrl = api.url;
  const auth = api.key === undefined ? '' : ' -H "authorization: Bearer $CELERIAC_API_KEY"';
  console.log('\nRunning the sample tasks:');
  const submitted = await apiRequest<{ id: string }>(api, '/v1/tasks/add', { method: 'POST', json: { x: 2, y: 3 } });
  const sum = await client.job<number>(submitted.id).result({ timeoutMs: 30_000 });
  console.log(`  add(2, 3) = ${sum}   (submitted over HTTP, job ${submitted.id})`);

  const x = seededVector(demoVectorLength, 1);
  const y = seededVector(demoVectorLength, 2);
  const reference = referenceDot(x, y);
  let passed = sum === 5;
  try {
    const job = await client.enqueue(dotProduct, { x, y });
    const { dot } = await job.result({ timeoutMs: 120_000 });
    const relativeError = Math.abs(dot - reference) / Math.abs(reference);
    const matches = relativeError <= demoRelativeTolerance;
    passed &&= matches;
    console.log(
      `  GPU dot product of two ${demoVectorLength.toLocaleString('en-US')}-element vectors = ${dot.toFixed(4)}\n` +
        `    JS reference ${reference.toFixed(4)}, relative error ${relativeError.toExponential(1)} ` +
        `(${matches ? 'matches' : 'DOES NOT MATCH'}, tolerance ${demoRelativeTolerance})   (job ${job.id})`,
    );
  } catch (error) {
    passed = false;
    const cause = isCeleriacError(error) && error.cause instanceof Error ? error.cause : error;
    console.log(`  GPU dot product failed: ${(cause as Error).message}`);
  }

  try {
    const parts = 8;
    const workflow = await client.workflow(scatterGatherDot(x, y, parts));
    const { dot } = await workflow.result({ timeoutMs: 120_000 });
    const relativeError = Math.abs(dot - reference) / Math.abs(reference);
    const matches = relativeError <= demoRelativeTolerance;
    passed &&= matches;
    console.log(
      `  The same dot product as a workflow: a chord of ${parts} GPU reductions, summed by its callback = ${dot.toFixed(4)}\n` +
        `    relative error ${relativeError.toExponential(1)} (${matches ? 'matches' : 'DOES NOT MATCH'})   ` +
        `(workflow ${workflow.id}: curl ${apiUrl}/v1/workflows/${workflow.id}${auth})`,
    );
  } catch (error) {
    passed = false;
    const cause = isCeleriacError(error) && error.cause instanceof Error ? error.cause : error;
    console.log(`  Scatter/gather workflow failed: ${(cause as Error).message}`);
  }

  const record = await apiRequest<JobRecord>(api, `/v1/jobs/${submitted.id}`);
  console.log(`\nFetch the add job yourself (state: ${record.state}):\n  curl ${apiUrl}/v1/jobs/${submitted.id}${auth}\n`);
  return passed;
}
