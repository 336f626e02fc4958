import { availableParallelism } from 'node:os';

/**
 * Encoder threads for `--threads auto`: mpeg1video threads by slices, so more threads cut the time to encode each
 * picture (latency) without holding a frame back; one core is left for the camera process and Node, and beyond
 * four the slices cost more bits than they save time at these sizes.
 * @example
 * autoThreads(4); // 3 on a Pi 3/4/5
 */
export function autoThreads(cpus: number = availableParallelism()): number {
  return Math.min(4, Math.max(1, cpus - 1));
}
