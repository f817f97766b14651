import { cpus, totalmem } from 'node:os';

/**
 * One line naming the machine, e.g. `2 × AMD EPYC 7B13, 23.5 GiB RAM`. Figures only mean something beside the
 * hardware they were taken on, so every benchmark prints it.
 */
export function describeMachine(): string {
  const cores = cpus();
  const model = cores[0]?.model.trim() ?? 'unknown CPU';
  const ramGiB = (totalmem() / 2 ** 30).toFixed(1);
  return `${cores.length} × ${model}, ${ramGiB} GiB RAM`;
}
