// What keeping every track until cleanup costs (src/webrtc/peer-session.ts, `addTrack`): RSS after rounds of 3000
// connections, each with one send-only H.264 track, closed, their tracks closed, everything else dropped and
// collected. `kept` adds tracks as the server does; `collected` with the library's own addTrack (whose objects may
// then be collected: the way that makes cleanup() crash, so this run never calls it).
//   node --expose-gc -r ts-node/register/transpile-only bench/webrtc-kept-tracks.ts [kept|collected]
import { addTrack, loadWebRtc } from '../src/webrtc/peer-session';

const ROUNDS = 5;
const PER_ROUND = 3000;

const loaded = loadWebRtc();
if (!loaded.ok) throw new Error(loaded.reason);
const library = loaded.library;
const collect =
  global.gc ??
  ((): void => {
    throw new Error('run with node --expose-gc');
  });

async function round(keep: boolean): Promise<void> {
  const closed: Promise<void>[] = [];
  for (let i = 0; i < PER_ROUND; i++) {
    const pc = new library.PeerConnection(`kept-${i}`, { iceServers: [] });
    const video = new library.Video('0', 'SendOnly');
    video.addH264Codec(102);
    const track = keep ? addTrack(pc, video) : pc.addTrack(video);
    closed.push(new Promise((resolve) => pc.onStateChange((state) => state === 'closed' && resolve(track.close()))));
    pc.close();
  }
  await Promise.all(closed);
}

function rssMiB(): number {
  for (let i = 0; i < 4; i++) collect();
  return process.memoryUsage().rss / 2 ** 20;
}

async function main(): Promise<void> {
  const keep = process.argv[2] !== 'collected';
  const after: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    await round(keep);
    await new Promise((resolve) => setTimeout(resolve, 300));
    after.push(rssMiB());
  }
  // The first round grows the allocator's arenas either way: the steady cost is the slope after it.
  const perSession = ((after[ROUNDS - 1]! - after[0]!) * 2 ** 20) / ((ROUNDS - 1) * PER_ROUND);
  process.stdout.write(
    `${keep ? 'kept' : 'collected'}: RSS MiB after each ${PER_ROUND}: ${after.map((m) => m.toFixed(1)).join(' ')}; ` +
      `${(perSession / 1024).toFixed(2)} KiB per ended session after the first round\n`,
  );
  process.exit(0);
}

void main();
