import { Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import type { Broker } from '@celeriac/broker';
import { readBrokerSnapshot, type BrokerSnapshot } from './broker-snapshot.js';
import { snapshotMetricDefinitions, type SnapshotMetricDefinition } from './snapshot-metrics.js';

/** The metrics of one API server; see {@link createApiMetrics}. */
export interface ApiMetrics {
  /** The content type of {@link ApiMetrics.scrape}'s text. */
  readonly contentType: string;
  /** Reads the broker and renders every metric in the Prometheus text format. */
  scrape(): Promise<string>;
}

/**
 * Node's process metrics (CPU, memory, event loop lag, GC, handles), once per process: they describe the process,
 * not a server, and prom-client's collectors of them hold process-wide observers, so every server in the process
 * shares them.
 */
let processRegistry: Registry | undefined;

/**
 * Builds an API server's metrics: the process metrics, and celeriac's own, read from the broker at scrape time.
 * Values that Redis holds (queue depths, worker heartbeats, the job statistics workers flush) are the same from
 * every API instance, so they describe the whole deployment, complete whichever instance is scraped.
 */
export function createApiMetrics(broker: Broker): ApiMetrics {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  let snapshot: BrokerSnapshot = { complete: false };
  const registry = new Registry();
  for (const definition of snapshotMetricDefinitions) registry.registerMetric(toMetric(definition, () => snapshot));
  // Merged once: the merged registry holds the same metric objects, so each scrape renders their current values.
  const merged = Registry.merge([processRegistry, registry]);
  return {
    contentType: merged.contentType,
    async scrape() {
      snapshot = await readBrokerSnapshot(broker);
      return merged.metrics();
    },
  };
}

/**
 * A prom-client metric whose values come from the latest snapshot. prom-client has no histogram or counter that
 * can be set from totals kept elsewhere (ours are in Redis), but its registry renders any object with this shape.
 */
function toMetric(definition: SnapshotMetricDefinition, current: () => BrokerSnapshot): Metric {
  const { name, help, type } = definition;
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum',
    get: async () => ({ name, help, type, aggregator: 'sum', values: definition.values(current()) }),
    reset: () => {},
  };
  return metric as unknown as Metric;
}
