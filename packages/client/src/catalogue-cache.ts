import type { CatalogueEntry } from '@celeriac/core';
import type { Broker } from '@celeriac/broker';

/** How long a read of the catalogue is reused: submissions by name then cost no extra round trip. */
const catalogueTtlMs = 1_000;

/** The published task catalogue, read from the broker at most once a second. */
export interface CatalogueCache {
  /** Every published task, sorted by name. */
  list(): Promise<CatalogueEntry[]>;
  /** One task's entry, or `undefined` if no worker has published it. */
  get(name: string): Promise<CatalogueEntry | undefined>;
}

/**
 * Creates a {@link CatalogueCache}. The client uses it for submissions by name, and the HTTP API for validating
 * them; a worker's new publication is seen within a second.
 */
export function createCatalogueCache(broker: Broker): CatalogueCache {
  let cached: { entries: Map<string, CatalogueEntry>; readAtMs: number } | undefined;
  const entries = async (): Promise<Map<string, CatalogueEntry>> => {
    if (!cached || Date.now() - cached.readAtMs > catalogueTtlMs) {
      const list = await broker.listCatalogue();
      cached = { entries: new Map(list.map((entry) => [entry.name, entry])), readAtMs: Date.now() };
    }
    return cached.entries;
  };
  return {
    list: async () => [...(await entries()).values()],
    get: async (name) => (await entries()).get(name),
  };
}
