// Part 1's goal for the WebRTC page (issue 25): its glass-to-glass p50 within 10 ms of WebCodecs' in the same run.
import { cell } from './stats';

/** What this needs of a part-1 row. */
interface GlassRow {
  readonly spec: string;
  readonly name: string;
  readonly player: string;
  readonly p50: number;
  readonly p95: number;
  readonly paintedFps: number;
}

/** The margin over WebCodecs' p50 the WebRTC page may take (ms): its jitter buffer's share. */
export const WEBRTC_GLASS_MARGIN_MS = 10;

/**
 * Prints and returns, per stream size, the WebRTC page's p50 against WebCodecs' + {@link WEBRTC_GLASS_MARGIN_MS}
 * (`webrtc` and `webcodecs` are the rows' names).
 * @example webrtcGlassGoals(rows, 'H.264 · WebRTC', 'H.264 · WebCodecs');
 */
export function webrtcGlassGoals(rows: readonly GlassRow[], webrtc: string, webcodecs: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  console.log(`   H.264 · WebRTC goal: glass p50 ≤ WebCodecs p50 + ${WEBRTC_GLASS_MARGIN_MS} ms (same run):`);
  for (const row of rows.filter((r) => r.name === webrtc)) {
    const wc = rows.find((r) => r.spec === row.spec && r.name === webcodecs);
    const isWebRtc = row.player === 'webrtc';
    const met = wc ? isWebRtc && row.p50 <= wc.p50 + WEBRTC_GLASS_MARGIN_MS : undefined;
    console.log(
      `   ${row.spec}${isWebRtc ? '' : ` (player ${row.player}, not WebRTC: missed)`}: p50 ${cell(row.p50)} ≤ ${cell(wc?.p50)} + ` +
        `${WEBRTC_GLASS_MARGIN_MS}: ${met === undefined ? 'not measured' : met ? 'met' : 'missed'}; p95 ${cell(row.p95)} ` +
        `(WebCodecs ${cell(wc?.p95)}); painted fps ${cell(row.paintedFps)} (WebCodecs ${cell(wc?.paintedFps)})`,
    );
    out[row.spec] = { player: row.player, p50: row.p50, p95: row.p95, webcodecsP50: wc?.p50, webcodecsP95: wc?.p95, met };
  }
  return out;
}
