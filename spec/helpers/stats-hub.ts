import { NEVER } from 'rxjs';
import { createEncoderCounters } from '../../src/codecs/codec';
import { mpeg1 } from '../../src/codecs/mpeg1/mpeg1-codec';
import { FORMATS } from '../../src/formats';
import type { Hub, HubStats } from '../../src/hub';

/** A hub that is only its stats (mutable: tests set them as time goes by); it streams nothing. */
export type StatsHub = Hub & { readonly stats: HubStats };

/**
 * A stand-in hub for health and metrics specs: the given stats over zeroed defaults (`state` follows `running`).
 *
 * @example
 * const hub = statsHub({ running: true, lastPictureAt: Date.now() });
 * hub.stats.pictures += 24;
 */
export function statsHub(stats: Partial<HubStats> = {}): StatsHub {
  return {
    pictures$: NEVER,
    stream: () => NEVER,
    gops: () => NEVER,
    sound: () => undefined,
    codec: mpeg1,
    formats: FORMATS,
    restarts$: NEVER,
    stats: {
      ...createEncoderCounters(),
      subscribers: 0,
      running: false,
      state: stats.running ? 'running' : 'idle',
      restarts: 0,
      failures: 0,
      nextAttemptAt: undefined,
      lastError: undefined,
      lastPictureAt: 0,
      wireBytes: {},
      ...stats,
    },
    width: 640,
    height: 480,
    fps: 24,
    keepAlive: () => NEVER.subscribe(),
    close: () => undefined,
  };
}
