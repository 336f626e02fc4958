// Run by track-lifetime.spec.ts in a Node of its own (with --expose-gc): a crash here must not take jest down.
//   server:     a real server's WHEP sessions (one watched then DELETEd, one refused), everything dropped and collected,
//               then the server stopped (which runs cleanup()).
//   port-taken: an answer that failed (the shared UDP port held by another socket), then the server stopped.
// Prints one JSON line with what it saw; a process that dies of a signal printed nothing after "cleaning up".
import { createSocket } from 'node:dgram';
import pino from 'pino';
import { parseConfig } from '../../src/config/command-line';
import { startServer } from '../../src/server/start-server';
import { keptTracks, loadWebRtc, type WebRtcLibrary } from '../../src/webrtc/peer-session';
import { offer as firefoxOffer } from './offers';
import { receiver } from './rtp-receiver';
import { freeUdpPort } from './udp-port';

/** One line on stdout, for the spec to read. */
const say = (line: string): void => void process.stdout.write(`${line}\n`);

const loaded = loadWebRtc();
if (!loaded.ok) throw new Error(loaded.reason);
const nodeDataChannel: WebRtcLibrary = loaded.library;

const collect =
  global.gc ??
  ((): void => {
    throw new Error('run with --expose-gc');
  });

/** Collects until nothing more goes: finalizers of native objects may need more than one pass. */
async function collectAll(): Promise<void> {
  for (let pass = 0; pass < 4; pass++) {
    collect();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** One session watched for three pictures then ended by DELETE, one offer the library refuses; then stop. */
async function serverSessions(): Promise<{ refused: string; keptWhileRunning: number; stop: () => Promise<void> }> {
  const flags = ['--codec', 'h264', '--source', 'test', '--host', '127.0.0.1', '--port', '0', '--gop', '12', '--grace', '0'];
  const config = parseConfig([...flags, '--webrtc-port', String(await freeUdpPort())], {});
  const running = await startServer(config, { logger: pino({ level: 'silent' }) });
  const whep = `http://127.0.0.1:${running.port}/whep`;
  const post = (body: string): Promise<Response> => fetch(whep, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body });
  const rx = await receiver(nodeDataChannel, 'lifetime');
  const created = await post(rx.offer);
  if (created.status !== 201) throw new Error(`POST /whep answered ${created.status}: ${await created.text()}`);
  rx.pc.setRemoteDescription(await created.text(), 'answer');
  await rx.accessUnits(3);
  await fetch(new URL(created.headers.get('location')!, whep), { method: 'DELETE' });
  rx.close();
  await rx.released;
  // An offer our reader passes and the library refuses: its tracks were added, then the offer refused.
  const refused = await post(`${firefoxOffer()}a=candidate:x\r\n`);
  return { refused: `${refused.status} ${await refused.text()}`, keptWhileRunning: keptTracks(), stop: () => running.stop() };
}

/** An answer that fails (the shared UDP port held by another program): 503, then stop. */
async function portTaken(): Promise<{ status: string; stop: () => Promise<void> }> {
  const port = await freeUdpPort();
  const holder = createSocket('udp4');
  await new Promise<void>((resolve) => holder.bind(port, '0.0.0.0', resolve));
  const flags = ['--codec', 'h264', '--source', 'test', '--host', '127.0.0.1', '--port', '0', '--gop', '12', '--grace', '0'];
  const running = await startServer(parseConfig([...flags, '--webrtc-port', String(port)], {}), { logger: pino({ level: 'silent' }) });
  const rx = await receiver(nodeDataChannel, 'port-taken');
  const res = await fetch(`http://127.0.0.1:${running.port}/whep`, {
    method: 'POST',
    headers: { 'content-type': 'application/sdp' },
    body: rx.offer,
  });
  const status = `${res.status} ${await res.text()}`;
  rx.close();
  await rx.released;
  holder.close();
  return { status, stop: () => running.stop() };
}

async function main(): Promise<void> {
  const mode = process.argv[2];
  if (mode === 'port-taken') {
    const { status, stop } = await portTaken();
    await collectAll();
    say('cleaning up');
    await stop();
    say(JSON.stringify({ survived: true, status, keptAfterStop: keptTracks() }));
    return;
  }
  const { refused, keptWhileRunning, stop } = await serverSessions();
  await collectAll();
  say('cleaning up');
  await stop();
  say(JSON.stringify({ survived: true, refused, keptWhileRunning, keptAfterStop: keptTracks() }));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
    process.exit(1);
  },
);
