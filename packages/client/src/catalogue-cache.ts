import type { CatalogueEntry } from '@celeriac/core';
import type { Broker } from '@celeriac/broker';

/** How long a read of the catalogue is reused: submissions by name then cost no extra round trip. */
const catalogueTtlMs = 1_000;

/** The published task catalogue, read from the broker at most once a second. */
export function createCatalogueCache(broker: Broker): { get(name: string): Promise<CatalogueEntry | undefined> } {
  let cached: { entries: Map<string, CatalogueEntry>; readAtMs: number } | undefined;
  return {
    async get(name) {
      if (!cached || Date.now() - cached.readAtMs > catalogueTtlMs) {
        const entries = await broker.listCatalogue();
        cached = { entries: new Map(entries.map((entry) => [entry.name, entry])), readAtMs: Date.now() };
      }
      return cached.entries.get(name);
    },
  };
}
