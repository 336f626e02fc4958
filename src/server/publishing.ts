import { aac } from '../audio/aac';
import { Gauge, type Registry } from 'prom-client';
import type { SchedulerLike } from 'rxjs';
import type { Hub } from '../hub';
import { probeOutputProtocols, type ResolvedFfmpeg } from '../process/ffmpeg-path';
import { Publisher, type PublishState } from '../publish/publisher';
import type { PublishTarget } from '../publish/publish-target';
import { SourceCheckError } from '../sources/check-source';
import type { PublishTargetHealth } from './health';
import type { PluginLog } from './plugin-log';
import { addRunningTotal } from './running-total';

/**
 * Refuses at start what this ffmpeg cannot send: `srt://` targets need an ffmpeg built with libsrt (the bundled
 * static 4.1 has none). Throws a {@link SourceCheckError} about the ffmpeg, which the CLI turns into one line and exit 2.
 */
export async function checkPublishFfmpeg(targets: readonly PublishTarget[], ffmpeg: ResolvedFfmpeg): Promise<void> {
  const srt = targets.find((target) => target.protocol === 'srt');
  if (!srt) return;
  const protocols = await probeOutputProtocols(ffmpeg.path);
  if (!protocols.includes('srt')) {
    throw new SourceCheckError(
      'ffmpeg',
      ffmpeg.path,
      `cannot send SRT, which --publish ${srt.label} needs (its protocols have no srt): use an ffmpeg built with libsrt, ` +
        "e.g. Debian's or Ubuntu's (apt install ffmpeg)",
      ffmpeg.origin,
    );
  }
}

/** One {@link Publisher} per target, fed from `hub.pictures$`; not started. */
export function createPublishers(
  hub: Hub,
  targets: readonly PublishTarget[],
  ffmpeg: () => string,
  log: PluginLog,
  scheduler?: SchedulerLike,
): Publisher[] {
  return targets.map(
    (target) =>
      new Publisher({
        target,
        pictures$: hub.pictures$,
        ...(hub.audio
          ? {
              sound: {
                frames$: hub.audio.packets(aac),
                up: () => hub.audio!.stats.state !== 'restarting',
                bitrateKbps: hub.audio.bitrateKbps,
              },
            }
          : {}),
        codec: hub.codec.id,
        fps: hub.fps,
        ffmpeg,
        log,
        ...(scheduler ? { scheduler } : {}),
      }),
  );
}

/** The targets as `/healthz` lists them. */
export function publishHealth(publishers: readonly Publisher[]): PublishTargetHealth[] {
  return publishers.map(({ stats: s }) => ({
    target: s.target,
    state: s.state,
    bytes: s.bytes,
    skipped: s.skipped,
    restarts: s.restarts,
    failures: s.failures,
    ...(s.lastError ? { lastError: s.lastError } : {}),
  }));
}

const STATES: readonly PublishState[] = ['stopped', 'starting', 'publishing', 'retrying'];

/**
 * Per-target metrics on `registry`, read at scrape time: state, bytes sent, restarts, pictures skipped. Labels:
 * `index` (the target's place in the list) and `target` (its redacted URL, never the key).
 */
export function addPublishMetrics(registry: Registry, publishers: readonly Publisher[]): void {
  if (publishers.length === 0) return;
  const labelsOf = (i: number) => ({ index: String(i), target: publishers[i]!.stats.target });
  new Gauge({
    name: 'pistream_publish_state',
    help: "Each publish target's state: 1 for the current one (starting: connecting; retrying: waiting out the backoff after a failure)",
    labelNames: ['index', 'target', 'state'],
    registers: [registry],
    collect() {
      publishers.forEach((p, i) => {
        for (const state of STATES) this.set({ ...labelsOf(i), state }, p.stats.state === state ? 1 : 0);
      });
    },
  });
  const total = (name: string, help: string, read: (p: Publisher) => number): void =>
    addRunningTotal(registry, { name, help, labelNames: ['index', 'target'] }, () =>
      publishers.map((p, i) => [labelsOf(i), read(p)] as const),
    );
  total('pistream_publish_bytes_total', "Bytes sent to each publish target (ffmpeg's count, all runs)", (p) => p.stats.bytes);
  total('pistream_publish_restarts_total', "Restarts of each publish target's ffmpeg after a failure", (p) => p.stats.restarts);
  total(
    'pistream_publish_skipped_pictures_total',
    'Pictures a publish target skipped because it fell behind (up to the next keyframe)',
    (p) => p.stats.skipped,
  );
  total('pistream_publish_pictures_total', "Pictures written to each publish target's ffmpeg", (p) => p.stats.pictures);
}
