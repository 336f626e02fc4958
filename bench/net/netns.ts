// A viewer's network link on this machine: two network namespaces joined by veth pairs, a kernel rate cap (tc tbf) on
// the link, and the relay (relay.ts) for delay, jitter, loss and outages, since this kernel has no netem.
//
//   viewer ns  [A 10.77.0.2] ──veth── [B 10.77.0.1]  relay ns  [C 10.78.K.2] ──veth── [D no address]  this ns (server)
//
// The viewer namespace has a route to the relay namespace only, so everything it sends (the page, WebSockets, WHEP,
// and WebRTC's UDP to the candidate the server announces, 10.77.0.1) goes through the relay, which forwards to the
// server at 127.0.0.1 over C–D (see hostEndWithoutAddress: this namespace gets no address, so a browser here sees no
// network change). The cap sits on B (towards the viewer) and A (from it). Everything made here is named after
// this process (`pistream-<pid>-<n>v|r`, veths `pn<pid>x<n>a…d`) and removed by close(), at exit and on
// SIGINT/SIGTERM/SIGHUP; a start first removes what a dead process left (or an earlier process with this pid), saying
// so. Every address is made before createLink returns (see noLateAddresses).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { RelayCounts, RelayOptions } from './relay';
import type { Impairment } from './relay-schedule';

/** The addresses of a link (see the file comment). */
export const VIEWER_ADDRESS = '10.77.0.2';
export const RELAY_ADDRESS = '10.77.0.1';

/** A rate cap in kbit/s, or null for none. */
export type Rate = number | null;

export interface Link {
  readonly viewerNs: string;
  readonly relayNs: string;
  /** Where the relay reaches the server: this namespace's 127.0.0.1, through the link (see hostEndWithoutAddress). */
  readonly serverAddress: string;
  /** Caps (kbit/s, null: none) towards the viewer and from it; applied at once (tc replace). */
  setRate(down: Rate, up?: Rate): void;
  /** Starts the relay in the relay namespace, forwarding these ports to serverAddress. */
  startRelay(options: {
    tcpPorts: readonly number[];
    udpPorts: readonly number[];
    down: Impairment;
    up: Impairment;
    seed: number;
  }): Promise<RelayHandle>;
  /** An executable that runs `binary` with its arguments inside the viewer namespace (for Playwright's executablePath). */
  wrap(binary: string): string;
  /** What waits in the kernel's queue towards the viewer now (tc's backlog of the cap; zero without a cap). */
  backlog(): { bytes: number; packets: number };
  /** What the link looks like now (namespaces here, its qdiscs with their counters, its TCP sockets), for a failure. */
  describe(): string;
  /** Removes everything: processes in both namespaces, the relay, the namespaces, veths, qdiscs, wrappers. */
  close(): void;
}

export interface RelayHandle {
  outage(durationMs: number): void;
  impair(down: Impairment, up: Impairment): void;
  counts(): Promise<RelayCounts>;
  /** The relay's TCP connections, one line each (see relay.ts), for a failure's description. */
  connectionLog(): Promise<string[]>;
  stop(): Promise<void>;
}

const OWN = process.pid;
/** A link's namespaces (`…-<n>v`, `…-<n>r`) and netnsUnavailable's probe (`…-probe`), after the process that made them. */
const NS_NAME = /^pistream-(\d+)-(?:(\d+)[vr]|probe)$/;
const VETH_NAME = /^pn(\d+)x(\d+)[a-d]$/;
/** The links this process has open, with the number in their names. */
const open = new Set<Link & { readonly index: number }>();
let made = 0;

function run(cmd: string, args: readonly string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new Error(`${cmd} ${args.join(' ')}: ${stderr || (err as Error).message}`, { cause: err });
  }
}

function quiet(cmd: string, args: readonly string[]): void {
  try {
    run(cmd, args);
  } catch {
    // Already gone.
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Kills every process in a namespace (a browser started in it), then deletes it. */
function deleteNamespace(ns: string): void {
  let pids: string[];
  try {
    pids = run('ip', ['netns', 'pids', ns]).split(/\s+/).filter(Boolean);
  } catch {
    return; // No such namespace.
  }
  for (const pid of pids) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Ended meanwhile.
    }
  }
  quiet('ip', ['netns', 'del', ns]);
}

/** Why links cannot be made here (not root, no ip/tc, namespaces refused), or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces are Linux's (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'network namespaces and tc need root (this process is not)';
  // Not a link's name: cleanStale leaves it to this process (it is gone at the end of this function).
  const probe = `pistream-${OWN}-probe`;
  try {
    run('tc', ['-V']);
    run('ip', ['netns', 'add', probe]);
    run('ip', ['-n', probe, 'link', 'add', 'probe0', 'type', 'veth', 'peer', 'name', 'probe1']);
    run('tc', ['-n', probe, 'qdisc', 'add', 'dev', 'probe0', 'root', 'tbf', 'rate', '1mbit', 'burst', '16kb', 'latency', '100ms']);
    return undefined;
  } catch (err) {
    return `cannot make a namespace with a tbf rate cap here: ${(err as Error).message}`;
  } finally {
    quiet('ip', ['netns', 'del', probe]);
  }
}

/**
 * Removes namespaces and veths that a process which is no longer running left behind (killed before its close),
 * printing one line for each through `log`. Returns what it removed.
 */
export function cleanStale(log: (line: string) => void = (l) => console.warn(l)): string[] {
  const removed: string[] = [];
  for (const ns of run('ip', ['netns', 'list'])
    .split('\n')
    .map((l) => l.split(' ')[0]!)) {
    const m = NS_NAME.exec(ns);
    const why = m ? leftBy(Number(m[1]), m[2] === undefined ? undefined : Number(m[2])) : undefined;
    if (!why) continue;
    log(`net: removing network namespace ${ns}, ${why}`);
    deleteNamespace(ns);
    removed.push(ns);
  }
  for (const line of run('ip', ['-o', 'link', 'show']).split('\n')) {
    const name = /^\d+: ([^:@]+)/.exec(line)?.[1];
    const m = name ? VETH_NAME.exec(name) : null;
    const why = m ? leftBy(Number(m[1]), Number(m[2])) : undefined;
    if (!why) continue;
    log(`net: removing veth ${name}, ${why}`);
    quiet('ip', ['link', 'del', name!]);
    removed.push(name!);
  }
  return removed;
}

/**
 * Why what process `pid` made as its link `index` (undefined: its probe) is stale, or undefined when it is not: its
 * process is gone, or it carries this process's id without being one of its open links (pids are reused: an earlier
 * process with this id was killed before it closed its links, and this one would fail to make the same names).
 */
function leftBy(pid: number, index: number | undefined): string | undefined {
  if (pid === OWN) {
    if ([...open].some((l) => l.index === index)) return undefined;
    return `left by an earlier process with this process's id (${pid}), not one of its open links`;
  }
  return alive(pid) ? undefined : `left by process ${pid} which is no longer running`;
}

/** Where the relay reaches the server: this namespace's loopback address, through the link's D end (see plumb). */
export const SERVER_ADDRESS = '127.0.0.1';

/** A K for the relay's address 10.78.K.2 that no route here leads to already (another link's). */
function freeRelaySubnet(): number {
  const used = new Set([...run('ip', ['-4', '-o', 'route', 'show']).matchAll(/^10\.78\.(\d+)\.2 /gm)].map((m) => Number(m[1])));
  for (let i = 0; i < 256; i++) {
    const k = (OWN + made * 17 + i) % 256;
    if (!used.has(k)) return k;
  }
  throw new Error('net: every 10.78.K.2 has a route here already; remove stale links (ip netns list)');
}

/** The tbf line for a cap: a 10 ms burst (at least two full frames) and 200 ms of queue, a Wi-Fi-like buffer. */
function tbfArgs(kbit: number): string[] {
  const burst = Math.max(3200, Math.round((kbit * 1000) / 8 / 100));
  return ['tbf', 'rate', `${kbit}kbit`, 'burst', String(burst), 'latency', '200ms'];
}

function applyRate(ns: string, dev: string, rate: Rate): void {
  if (rate === null) quiet('tc', ['-n', ns, 'qdisc', 'del', 'dev', dev, 'root']);
  else run('tc', ['-n', ns, 'qdisc', 'replace', 'dev', dev, 'root', ...tbfArgs(rate)]);
}

/**
 * The link's interfaces get no IPv6 address of their own making (addrgenmode none). With one, the kernel adds the
 * link-local address 1–2 s after the veth comes up (once duplicate address detection ends), and Chromium takes a new
 * address as a network change: every request it has in flight fails with ERR_NETWORK_CHANGED. A page loading through
 * the link then (its scripts take seconds through a low cap) lost scripts and never opened its stream (issue 28's
 * capped-viewer failure); on the host's end, the same event reached every Chromium in this namespace. The link is
 * IPv4; every address on it is made here, before createLink returns.
 */
function noLateAddresses(ns: string | null, dev: string): void {
  // Without IPv6 in the kernel there is no such address to wait for.
  if (!existsSync('/proc/sys/net/ipv6')) return;
  run('ip', [...(ns ? ['-n', ns] : []), 'link', 'set', 'dev', dev, 'addrgenmode', 'none']);
}

/** Lets `dev` (in `ns`, or here) carry 127/8, which the kernel otherwise drops as martian off the loopback. */
function routeLocalnet(ns: string | null, dev: string): void {
  const file = `/proc/sys/net/ipv4/conf/${dev}/route_localnet`;
  if (ns === null) writeFileSync(file, '1');
  else run('ip', ['netns', 'exec', ns, 'sh', '-c', `echo 1 > ${file}`]);
}

/**
 * The relay's way to the server without an address in this namespace. Chromium watches this namespace's addresses
 * and takes any address coming or going as a network change: every request in flight in every browser here fails
 * with ERR_NETWORK_CHANGED. An address on D did that to the browser specs running beside a net spec (a page lost its
 * scripts and never played), and would to a developer's own browser during `npm run bench:net`. So D has none: the
 * relay namespace routes 127.0.0.1 out of C (its own loopback stays down), this namespace routes the relay's
 * 10.78.K.2 back out of D, and both ends carry 127/8 (route_localnet), so what the relay sends to 127.0.0.1 arrives
 * here as local traffic. Routes and links coming up are not changes to Chromium; addresses are.
 */
function hostEndWithoutAddress(relayNs: string, c: string, d: string, k: number): void {
  routeLocalnet(null, d);
  routeLocalnet(relayNs, c);
  run('ip', ['route', 'add', `10.78.${k}.2/32`, 'dev', d]);
  run('ip', ['-n', relayNs, 'route', 'add', `${SERVER_ADDRESS}/32`, 'dev', c, 'src', `10.78.${k}.2`]);
}

function plumb(n: number, k: number): { viewerNs: string; relayNs: string; dev: (end: string) => string } {
  const viewerNs = `pistream-${OWN}-${n}v`;
  const relayNs = `pistream-${OWN}-${n}r`;
  const dev = (end: string): string => `pn${OWN}x${n}${end}`;
  run('ip', ['netns', 'add', viewerNs]);
  run('ip', ['netns', 'add', relayNs]);
  run('ip', ['link', 'add', dev('a'), 'netns', viewerNs, 'type', 'veth', 'peer', 'name', dev('b'), 'netns', relayNs]);
  run('ip', ['link', 'add', dev('c'), 'netns', relayNs, 'type', 'veth', 'peer', 'name', dev('d')]);
  const ends = [
    [viewerNs, dev('a')],
    [relayNs, dev('b')],
    [relayNs, dev('c')],
    [null, dev('d')],
  ] as const;
  for (const [ns, d] of ends) noLateAddresses(ns, d);
  run('ip', ['-n', viewerNs, 'addr', 'add', `${VIEWER_ADDRESS}/30`, 'dev', dev('a')]);
  run('ip', ['-n', relayNs, 'addr', 'add', `${RELAY_ADDRESS}/30`, 'dev', dev('b')]);
  run('ip', ['-n', relayNs, 'addr', 'add', `10.78.${k}.2/32`, 'dev', dev('c')]);
  // The relay namespace's loopback stays down: 127.0.0.1 there is the server's, through C (hostEndWithoutAddress).
  for (const [ns, d] of [...ends, [viewerNs, 'lo'] as const]) run('ip', [...(ns ? ['-n', ns] : []), 'link', 'set', d, 'up']);
  hostEndWithoutAddress(relayNs, dev('c'), dev('d'), k);
  return { viewerNs, relayNs, dev };
}

/** See {@link Link.describe}; each command's failure is part of the description. */
function describeLink(parts: ReturnType<typeof plumb>): string {
  const show = (cmd: string, args: readonly string[]): string => {
    let out: string;
    try {
      out = run(cmd, args).trim();
    } catch (err) {
      out = (err as Error).message;
    }
    return `$ ${cmd} ${args.join(' ')}\n${out}`;
  };
  return [
    show('ip', ['netns', 'list']),
    show('tc', ['-s', '-n', parts.relayNs, 'qdisc', 'show', 'dev', parts.dev('b')]),
    show('tc', ['-s', '-n', parts.viewerNs, 'qdisc', 'show', 'dev', parts.dev('a')]),
    show('ip', ['-n', parts.viewerNs, '-br', 'addr']),
    show('ip', ['-n', parts.relayNs, '-br', 'addr']),
    show('ss', ['-N', parts.viewerNs, '-tan']),
    show('ss', ['-N', parts.relayNs, '-tan']),
  ].join('\n');
}

/** See {@link Link.backlog}: the root qdisc's `backlog <bytes>b <packets>p` on the relay's end towards the viewer. */
function downBacklog(parts: ReturnType<typeof plumb>): { bytes: number; packets: number } {
  const out = run('tc', ['-s', '-n', parts.relayNs, 'qdisc', 'show', 'dev', parts.dev('b'), 'root']);
  const m = /backlog (\d+)b (\d+)p/.exec(out);
  return { bytes: Number(m?.[1] ?? 0), packets: Number(m?.[2] ?? 0) };
}

/** Waits for `relay ready` on the relay's stdout. */
function relayReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (out.includes('relay ready\n')) {
        child.stdout!.off('data', onData);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`net: the relay exited (${code}) before it was ready: ${err.trim()}`)));
  });
}

/** Asks the relay `command` and resolves the JSON on its first stdout line that starts with `command `. */
function ask<T>(child: ChildProcess, command: string): Promise<T> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) return reject(new Error('net: the relay has exited'));
    const lines = createInterface({ input: child.stdout! });
    const exited = (): void => {
      lines.close();
      reject(new Error(`net: the relay exited before it answered ${command}`));
    };
    child.once('exit', exited);
    lines.on('line', (line) => {
      if (!line.startsWith(`${command} `)) return;
      lines.close();
      child.off('exit', exited);
      resolve(JSON.parse(line.slice(command.length + 1)) as T);
    });
    child.stdin!.write(`${command}\n`);
  });
}

async function spawnRelay(relayNs: string, options: RelayOptions): Promise<RelayHandle> {
  const main = join(__dirname, 'relay-main.ts');
  const child = spawn(
    'ip',
    ['netns', 'exec', relayNs, process.execPath, '-r', 'ts-node/register/transpile-only', main, JSON.stringify(options)],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
      cwd: join(__dirname, '..', '..'),
    },
  );
  await relayReady(child);
  const send = (line: string): void => void child.stdin!.write(`${line}\n`);
  return {
    outage: (ms) => send(`outage ${ms}`),
    impair: (down, up) => send(`impair ${JSON.stringify({ down, up })}`),
    counts: () => ask<RelayCounts>(child, 'counts'),
    connectionLog: () => ask<string[]>(child, 'log'),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.stdin!.end();
        setTimeout(() => child.kill('SIGKILL'), 2000).unref();
      }),
  };
}

/**
 * Makes a link (see the file comment), removing stale ones first. Close it when done; it is closed at exit anyway.
 * @example
 * const link = await createLink();
 * link.setRate(500);
 * const relay = await link.startRelay({ tcpPorts: [port], udpPorts: [], down: CLEAN, up: CLEAN, seed: 1 });
 * // … Chromium with executablePath link.wrap('/usr/bin/chromium') opens http://10.77.0.1:port/
 * link.close();
 */
export function createLink(): Link {
  cleanStale();
  installExitHandlers();
  const n = made++;
  const k = freeRelaySubnet();
  let parts: ReturnType<typeof plumb>;
  const wrappers: string[] = [];
  const relays: RelayHandle[] = [];
  const names = { viewerNs: `pistream-${OWN}-${n}v`, relayNs: `pistream-${OWN}-${n}r` };
  const link: Link & { readonly index: number } = {
    index: n,
    ...names,
    serverAddress: SERVER_ADDRESS,
    setRate(down, up = null) {
      applyRate(parts.relayNs, parts.dev('b'), down);
      applyRate(parts.viewerNs, parts.dev('a'), up);
    },
    async startRelay(o) {
      const relay = await spawnRelay(parts.relayNs, { ...o, listenHost: RELAY_ADDRESS, targetHost: SERVER_ADDRESS });
      relays.push(relay);
      return relay;
    },
    backlog: () => downBacklog(parts),
    describe: () => describeLink(parts),
    wrap(binary) {
      const dir = mkdtempSync(join(tmpdir(), 'pistream-netns-'));
      const file = join(dir, 'in-namespace');
      writeFileSync(file, `#!/bin/sh\nexec ip netns exec ${parts.viewerNs} ${binary} "$@"\n`);
      chmodSync(file, 0o755);
      wrappers.push(dir);
      return file;
    },
    close() {
      if (!open.delete(link)) return;
      // Killing the namespaces' processes ends the relay too (its stdin closes with it).
      relays.splice(0).forEach((r) => void r.stop());
      deleteNamespace(names.viewerNs);
      deleteNamespace(names.relayNs);
      quiet('ip', ['link', 'del', `pn${OWN}x${n}d`]);
      wrappers.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
    },
  };
  open.add(link);
  try {
    parts = plumb(n, k);
  } catch (err) {
    link.close();
    throw err;
  }
  return link;
}

let handlersInstalled = false;

/** At exit, and on a signal that would end the process, every open link is closed (synchronously). */
function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const closeAll = (): void => [...open].forEach((l) => l.close());
  process.on('exit', closeAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      closeAll();
      // Nobody else handles it: die of the signal as we would have without this handler.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}
