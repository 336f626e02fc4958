import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { startRelay, type Relay } from '../../bench/net/relay';
import { CLEAN } from '../../bench/net/relay-schedule';

// The relay on real sockets, on loopback: it listens on 127.0.0.2 and forwards to the same port on 127.0.0.1 (no
// namespace needed; spec/net/netns.spec.ts runs it inside one).
const LISTEN = '127.0.0.2';
const TARGET = '127.0.0.1';
const DELAY = { delayMs: 40, jitterMs: 0, loss: 0 };

let relay: Relay | undefined;
const closers: (() => void)[] = [];
afterEach(async () => {
  closers.splice(0).forEach((c) => c());
  await relay?.close();
  relay = undefined;
});

/** A TCP echo server on TARGET; resolves its port. */
async function echoServer(): Promise<number> {
  const server: Server = createServer((s) => s.on('error', () => undefined).pipe(s));
  server.listen(0, TARGET);
  await once(server, 'listening');
  closers.push(() => server.close());
  return (server.address() as AddressInfo).port;
}

/** Collects `n` bytes from a socket. */
function readBytes(socket: Socket, n: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const onData = (d: Buffer): void => {
      chunks.push(d);
      got += d.length;
      if (got >= n) {
        socket.off('data', onData);
        resolve(Buffer.concat(chunks));
      }
    };
    socket.on('data', onData);
  });
}

async function udpSocket(host: string, port = 0): Promise<UdpSocket> {
  const s = createSocket('udp4');
  s.bind(port, host);
  await once(s, 'listening');
  closers.push(() => s.close());
  return s;
}

/** An echo server behind a fresh TCP relay, and a client connected to the relay. */
async function echoThroughRelay(impairment: typeof DELAY): Promise<Socket> {
  const port = await echoServer();
  relay = await startRelay({
    listenHost: LISTEN,
    targetHost: TARGET,
    tcpPorts: [port],
    udpPorts: [],
    down: impairment,
    up: impairment,
    seed: 1,
  });
  const client = connect(port, LISTEN);
  client.on('error', () => undefined);
  closers.push(() => client.destroy());
  await once(client, 'connect');
  return client;
}

describe('relay over TCP', () => {
  it('carries every byte, in order, both ways, each way no sooner than its delay', async () => {
    const client = await echoThroughRelay(DELAY);
    const payload = Buffer.from(Array.from({ length: 3_000_000 }, (_, i) => i % 251));
    const sent = performance.now();
    const back = readBytes(client, payload.length);
    client.write(payload);
    const echoed = await back;
    expect(performance.now() - sent).toBeGreaterThanOrEqual(2 * DELAY.delayMs);
    expect(echoed.equals(payload)).toBe(true);
    expect(relay!.counts).toMatchObject({ upBytes: payload.length, downBytes: payload.length, connections: 1 });
  });

  it('holds bytes sent during an outage until it ends, losing none', async () => {
    const client = await echoThroughRelay(CLEAN);
    relay!.outage(1000);
    const start = performance.now();
    const back = readBytes(client, 5);
    client.write('hello');
    expect((await back).toString()).toBe('hello');
    expect(performance.now() - start).toBeGreaterThanOrEqual(990);
  });

  it('ends the other side when one side ends', async () => {
    const client = await echoThroughRelay(CLEAN);
    client.end('bye');
    client.resume();
    await once(client, 'close');
    expect(relay!.counts.upBytes).toBe(3);
  });
});

describe('relay over UDP', () => {
  /** A UDP echo server on TARGET (the port the relay also takes on LISTEN). */
  async function echo(): Promise<number> {
    const server = await udpSocket(TARGET);
    server.on('message', (msg, from) => server.send(msg, from.port, from.address));
    return server.address().port;
  }

  it('loses datagrams at the loss rate each way and delivers the rest, each no sooner than its delay', async () => {
    const port = await echo();
    const lossy = { delayMs: 20, jitterMs: 5, loss: 0.05 };
    relay = await startRelay({ listenHost: LISTEN, targetHost: TARGET, tcpPorts: [], udpPorts: [port], down: lossy, up: lossy, seed: 42 });
    const client = await udpSocket('127.0.0.1');
    const sentAt = new Map<number, number>();
    const roundTrips: number[] = [];
    client.on('message', (msg) => roundTrips.push(performance.now() - sentAt.get(msg.readUInt32BE(0))!));
    const total = 1000;
    const size = 200;
    for (let i = 0; i < total; i++) {
      const msg = Buffer.alloc(size);
      msg.writeUInt32BE(i);
      sentAt.set(i, performance.now());
      client.send(msg, port, LISTEN);
      // A pace loopback's socket buffers take (a burst of 1000 overflows them: loss that is not the relay's).
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 5));
    }
    const { counts } = relay;
    const settled = (): boolean =>
      counts.upBytes / size + counts.upLost === total &&
      counts.downBytes / size + counts.downLost === counts.upBytes / size &&
      roundTrips.length === counts.downBytes / size;
    while (!settled()) await new Promise((r) => setTimeout(r, 50));
    expect(counts.upLost).toBeGreaterThan(0);
    expect(counts.downLost).toBeGreaterThan(0);
    expect(counts.upLost / total).toBeLessThan(0.1);
    expect(counts.downLost / (counts.upBytes / size)).toBeLessThan(0.1);
    expect(Math.min(...roundTrips)).toBeGreaterThanOrEqual(2 * (lossy.delayMs - lossy.jitterMs) - 1);
  });

  it('loses everything during an outage, then carries again', async () => {
    const port = await echo();
    relay = await startRelay({ listenHost: LISTEN, targetHost: TARGET, tcpPorts: [], udpPorts: [port], down: CLEAN, up: CLEAN, seed: 1 });
    const client = await udpSocket('127.0.0.1');
    const got: string[] = [];
    client.on('message', (msg) => got.push(msg.toString()));
    relay.outage(60_000);
    for (let i = 0; i < 10; i++) client.send(`lost ${i}`, port, LISTEN);
    while (relay.counts.upLost < 10) await new Promise((r) => setTimeout(r, 20));
    // A fresh relay state without outage: the outage is ended by a new relay on the same port.
    await relay.close();
    relay = await startRelay({ listenHost: LISTEN, targetHost: TARGET, tcpPorts: [], udpPorts: [port], down: CLEAN, up: CLEAN, seed: 1 });
    client.send('back', port, LISTEN);
    while (got.length === 0) await new Promise((r) => setTimeout(r, 20));
    expect(got).toEqual(['back']);
  });
});
