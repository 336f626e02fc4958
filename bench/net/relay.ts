// The link relay: what netem would do if this kernel had it. A TCP relay (WebSocket players, the page, WHEP's HTTP)
// and a UDP relay (WebRTC's media) that forward between a listening address and a target, delaying each chunk and
// losing datagrams by a schedule (relay-schedule.ts). The rate cap is not here: the kernel's tc does that on the
// veth the relay's listening side faces (netns.ts), so a capped link has real kernel queues.
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Socket } from 'node:net';
import { directionSchedule, seededRandom, type DirectionSchedule, type Impairment } from './relay-schedule';

/** Where a relay listens and where it forwards to; `ports` are the same on both sides. */
export interface RelayOptions {
  readonly listenHost: string;
  readonly targetHost: string;
  readonly tcpPorts: readonly number[];
  readonly udpPorts: readonly number[];
  /** Towards the viewer (target → listener's peer) and from it. */
  readonly down: Impairment;
  readonly up: Impairment;
  /** Seeds the schedules' generators (each direction of each connection gets its own, derived from it). */
  readonly seed: number;
}

/** What crossed the relay, per direction. */
export interface RelayCounts {
  downBytes: number;
  upBytes: number;
  downLost: number;
  upLost: number;
  connections: number;
}

export interface Relay {
  /** From now, for `durationMs`, the link is down both ways. */
  outage(durationMs: number): void;
  /** New impairments from now on, for every connection. */
  impair(down: Impairment, up: Impairment): void;
  readonly counts: RelayCounts;
  /** What happened to each TCP connection (accepted, forwarded, bytes each way, closed), newest last: for failures. */
  connectionLog(): string[];
  close(): Promise<void>;
}

/** TCP: pause reading a side once this many bytes wait to be delivered to the other (the link's send buffer). */
const HIGH_WATER = 256 * 1024;

/** Every schedule of the relay, so an outage or a new impairment reaches each. */
interface Schedules {
  make(direction: 'down' | 'up', stream: boolean): DirectionSchedule;
}

/**
 * Forwards `from`'s bytes to `to`, each chunk at its scheduled time, in order; reading `from` pauses while more than
 * HIGH_WATER bytes wait (in the relay and in `to`'s buffer), so a capped or down link pushes back on the sender as a
 * real one does.
 */
function delayedPipe(from: Socket, to: Socket, schedule: DirectionSchedule, count: (bytes: number) => void): void {
  const queue: { at: number; chunk: Buffer }[] = [];
  let queued = 0;
  let timer: NodeJS.Timeout | undefined;
  let ended = false;
  const flush = (): void => {
    timer = undefined;
    const now = performance.now();
    while (queue.length && queue[0]!.at <= now) {
      const { chunk } = queue.shift()!;
      queued -= chunk.length;
      count(chunk.length);
      if (!to.destroyed) to.write(chunk);
    }
    if (queue.length) timer = setTimeout(flush, queue[0]!.at - now);
    else if (ended && !to.destroyed) to.end();
    if (queued + to.writableLength < HIGH_WATER) from.resume();
  };
  from.on('data', (chunk: Buffer) => {
    const fate = schedule.next(performance.now());
    // A stream schedule never loses: its losses are retransmission delays.
    if (fate.lost) return;
    queue.push({ at: fate.at, chunk });
    queued += chunk.length;
    if (queued + to.writableLength >= HIGH_WATER) from.pause();
    timer ??= setTimeout(flush, Math.max(0, queue[0]!.at - performance.now()));
  });
  to.on('drain', () => {
    if (queued + to.writableLength < HIGH_WATER) from.resume();
  });
  from.on('end', () => {
    ended = true;
    timer ??= setTimeout(flush, 0);
  });
  from.on('close', () => clearTimeout(timer));
}

/** One TCP connection through the relay, as the connection log describes it. */
interface TcpEntry {
  readonly id: number;
  readonly acceptedAt: number;
  readonly from: string;
  targetAt?: number;
  up: number;
  down: number;
  end?: string;
}

/** The last connections through a relay, kept for a failure's description (bounded: the oldest are forgotten). */
class ConnectionLog {
  private readonly entries: TcpEntry[] = [];
  private readonly started = performance.now();
  private made = 0;

  open(from: string): TcpEntry {
    const entry: TcpEntry = { id: ++this.made, acceptedAt: performance.now(), from, up: 0, down: 0 };
    this.entries.push(entry);
    if (this.entries.length > 64) this.entries.shift();
    return entry;
  }

  lines(): string[] {
    const at = (t: number | undefined): string => (t === undefined ? '-' : `+${Math.round(t - this.started)} ms`);
    return this.entries.map(
      (e) =>
        `#${e.id} from ${e.from} accepted ${at(e.acceptedAt)}, server reached ${at(e.targetAt)}, ` +
        `up ${e.up} B, down ${e.down} B, ${e.end ?? 'open'}`,
    );
  }
}

function tcpRelay(
  port: number,
  options: RelayOptions,
  schedules: Schedules,
  counts: RelayCounts,
  log: ConnectionLog,
): Promise<() => Promise<void>> {
  const sockets = new Set<Socket>();
  const server = createServer({ noDelay: true, allowHalfOpen: true }, (viewer) => {
    counts.connections++;
    const entry = log.open(`${viewer.remoteAddress}:${viewer.remotePort}`);
    const target = connect({ host: options.targetHost, port, noDelay: true, allowHalfOpen: true });
    target.once('connect', () => (entry.targetAt = performance.now()));
    for (const [s, side] of [
      [viewer, 'viewer'],
      [target, 'server'],
    ] as const) {
      sockets.add(s);
      s.on('error', (err) => (entry.end ??= `${side} error ${(err as NodeJS.ErrnoException).code ?? err.message}`));
      s.on('close', () => {
        entry.end ??= `closed by the ${side}`;
        sockets.delete(s);
        viewer.destroy();
        target.destroy();
      });
    }
    delayedPipe(target, viewer, schedules.make('down', true), (n) => ((counts.downBytes += n), (entry.down += n)));
    delayedPipe(viewer, target, schedules.make('up', true), (n) => ((counts.upBytes += n), (entry.up += n)));
  });
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      server.close(() => resolve());
      sockets.forEach((s) => s.destroy());
    });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, options.listenHost, () => resolve(close));
  });
}

/** Sends `msg` on `socket` to `port`/`host` when `fate` says, or counts it lost. */
function sendLater(
  socket: UdpSocket,
  msg: Buffer,
  fate: ReturnType<DirectionSchedule['next']>,
  to: { port: number; address: string },
): boolean {
  if (fate.lost) return false;
  setTimeout(() => socket.send(msg, to.port, to.address, () => undefined), Math.max(0, fate.at - performance.now()));
  return true;
}

/** UDP: one upstream socket per viewer address (as a NAT would), each direction with its own schedule. */
function udpRelay(port: number, options: RelayOptions, schedules: Schedules, counts: RelayCounts): Promise<() => void> {
  const front = createSocket('udp4');
  const peers = new Map<string, { socket: UdpSocket; up: DirectionSchedule; down: DirectionSchedule }>();
  const peerFor = (rinfo: RemoteInfo): NonNullable<ReturnType<typeof peers.get>> => {
    const key = `${rinfo.address}:${rinfo.port}`;
    let peer = peers.get(key);
    if (!peer) {
      const socket = createSocket('udp4');
      const made = { socket, up: schedules.make('up', false), down: schedules.make('down', false) };
      socket.on('error', () => undefined);
      socket.on('message', (msg) => {
        if (sendLater(front, msg, made.down.next(performance.now()), rinfo)) counts.downBytes += msg.length;
        else counts.downLost++;
      });
      socket.bind(0);
      peers.set(key, (peer = made));
      counts.connections++;
    }
    return peer;
  };
  front.on('message', (msg, rinfo) => {
    const peer = peerFor(rinfo);
    if (sendLater(peer.socket, msg, peer.up.next(performance.now()), { port, address: options.targetHost })) counts.upBytes += msg.length;
    else counts.upLost++;
  });
  front.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    front.once('error', reject);
    front.bind(port, options.listenHost, () =>
      resolve(() => {
        front.close();
        peers.forEach((p) => p.socket.close());
      }),
    );
  });
}

/**
 * Starts a relay on every port of `options`, returning once all listen.
 * @example
 * const relay = await startRelay({ listenHost: '10.77.0.1', targetHost: '10.78.1.1', tcpPorts: [8082],
 *   udpPorts: [8189], down: { delayMs: 25, jitterMs: 10, loss: 0.01 }, up: { delayMs: 25, jitterMs: 10, loss: 0.01 }, seed: 1 });
 * relay.outage(3000);
 * await relay.close();
 */
export async function startRelay(options: RelayOptions): Promise<Relay> {
  const activeOutages: { from: number; to: number }[] = [];
  const all: { direction: 'down' | 'up'; schedule: DirectionSchedule }[] = [];
  const current = { down: options.down, up: options.up };
  let made = 0;
  const schedules: Schedules = {
    make(direction, stream) {
      const s = directionSchedule(current[direction], { stream, random: seededRandom(options.seed + 7919 * made++) });
      for (const o of activeOutages) s.outage(o.from, o.to - o.from);
      all.push({ direction, schedule: s });
      return s;
    },
  };
  const counts: RelayCounts = { downBytes: 0, upBytes: 0, downLost: 0, upLost: 0, connections: 0 };
  const log = new ConnectionLog();
  const tcpClosers = await Promise.all(options.tcpPorts.map((p) => tcpRelay(p, options, schedules, counts, log)));
  const udpClosers = await Promise.all(options.udpPorts.map((p) => udpRelay(p, options, schedules, counts)));
  return {
    counts,
    connectionLog: () => log.lines(),
    outage(durationMs) {
      const from = performance.now();
      activeOutages.push({ from, to: from + durationMs });
      all.forEach(({ schedule }) => schedule.outage(from, durationMs));
    },
    impair(down, up) {
      current.down = down;
      current.up = up;
      all.forEach(({ direction, schedule }) => schedule.impair(current[direction]));
    },
    async close() {
      udpClosers.forEach((c) => c());
      await Promise.all(tcpClosers.map((c) => c()));
    },
  };
}
