import { execFile, execFileSync } from 'node:child_process';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { promisify } from 'node:util';
import { cleanStale, createLink, RELAY_ADDRESS, type Link } from '../../bench/net/netns';
import { CLEAN } from '../../bench/net/relay-schedule';
import { describeNetns } from '../helpers/netns';

const run = promisify(execFile);
const namespaces = (): string[] =>
  execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter(Boolean);
const hostLinks = (): string[] =>
  [...execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).matchAll(/^\d+: (pn\d+x[^:@]+)/gm)].map((m) => m[1]!);

describeNetns('a viewer link (network namespaces, veth, tc, relay)', () => {
  let link: Link | undefined;
  let server: Server | undefined;
  afterEach(() => {
    link?.close();
    link = undefined;
    server?.close();
  });

  /** A server on every address here that sends `bytes` bytes to each connection and closes it. */
  async function sender(bytes: number): Promise<number> {
    server = createServer((s) => s.on('error', () => undefined).end(Buffer.alloc(bytes, 7)));
    await new Promise<void>((r) => server!.listen(0, '0.0.0.0', () => r()));
    return (server.address() as AddressInfo).port;
  }

  /** A node inside the viewer namespace reads all of a connection: bytes received and seconds from connect to end. */
  async function fetchInViewer(host: string, port: number, timeoutMs = 60_000): Promise<{ bytes: number; seconds: number }> {
    const script = `const s = require('node:net').connect(${port}, '${host}'); let n = 0, t0;
      s.setTimeout(${timeoutMs}, () => process.exit(3)); s.on('connect', () => (t0 = performance.now()));
      s.on('data', (d) => (n += d.length)); s.on('end', () => console.log(n, (performance.now() - t0) / 1000));`;
    const { stdout } = await run('ip', ['netns', 'exec', link!.viewerNs, process.execPath, '-e', script]);
    const [bytes, seconds] = stdout.trim().split(' ').map(Number);
    return { bytes: bytes!, seconds: seconds! };
  }

  it('reaches the server through the relay only, capped by the kernel, and leaves nothing behind when closed', async () => {
    const port = await sender(500_000);
    link = createLink();
    link.setRate(1000);
    expect(execFileSync('tc', ['-n', link.relayNs, 'qdisc', 'show'], { encoding: 'utf8' })).toMatch(/tbf .*rate 1Mbit/);
    await link.startRelay({ tcpPorts: [port], udpPorts: [], down: CLEAN, up: CLEAN, seed: 1 });
    const { bytes, seconds } = await fetchInViewer(RELAY_ADDRESS, port);
    expect(bytes).toBe(500_000);
    // 4 Mbit cannot cross a 1 Mbit/s cap in less than ~4 s (the tbf burst lets a few kB through at once).
    expect(seconds).toBeGreaterThan(3.5);
    // The viewer namespace reaches the server through the relay only: its 127.0.0.1 is its own.
    await expect(fetchInViewer(link.serverAddress, port, 2000)).rejects.toThrow();
    const { viewerNs, relayNs } = link;
    link.close();
    expect(namespaces()).not.toEqual(expect.arrayContaining([viewerNs]));
    expect(namespaces()).not.toEqual(expect.arrayContaining([relayNs]));
    expect(hostLinks().filter((l) => l.startsWith(`pn${process.pid}x`))).toEqual([]);
    // The relay ran in the relay namespace: nothing of it is left.
    expect(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })).not.toContain(`"tcpPorts":[${port}]`);
  });

  it('adds no address to this namespace, making or closing a link (every browser here would take it as a network change)', () => {
    const addresses = (): string => execFileSync('ip', ['-o', 'addr', 'show'], { encoding: 'utf8' });
    const before = addresses();
    link = createLink();
    expect(addresses()).toBe(before);
    link.close();
    expect(addresses()).toBe(before);
  });

  it('has every address when made: none appears later (a browser behind it would take it as a network change)', async () => {
    link = createLink();
    // The kernel's own IPv6 link-local address would come 1–2 s after the link is up; the link's ends have none.
    const { viewerNs, relayNs } = link;
    const v6 = (ns: string | null): string =>
      execFileSync('ip', [...(ns ? ['-n', ns] : []), '-6', '-o', 'addr', 'show'], { encoding: 'utf8' });
    expect(v6(viewerNs)).not.toMatch(/pn\d+x\d+a/);
    expect(v6(relayNs)).not.toMatch(/pn\d+x\d+[bc]/);
    expect(v6(null)).not.toContain(`pn${process.pid}x`);
    // Each end is set to make none, so it never will.
    expect(execFileSync('ip', ['-n', viewerNs, '-d', 'link', 'show'], { encoding: 'utf8' })).toMatch(/pn\d+x\d+a@[^]*addrgenmode none/);
  });

  it('changes and lifts the cap', async () => {
    link = createLink();
    link.setRate(4000);
    link.setRate(500);
    expect(execFileSync('tc', ['-n', link.relayNs, 'qdisc', 'show'], { encoding: 'utf8' })).toMatch(/tbf .*rate 500Kbit/);
    link.setRate(null);
    expect(execFileSync('tc', ['-n', link.relayNs, 'qdisc', 'show'], { encoding: 'utf8' })).not.toMatch(/tbf/);
  });

  /** Makes what a link numbered `index` of process `pid` leaves when killed: its viewer namespace and a host veth pair. */
  function leaveBehind(pid: number, index: number): string[] {
    const made = [`pistream-${pid}-${index}v`, `pn${pid}x${index}d`];
    execFileSync('ip', ['netns', 'add', made[0]!]);
    execFileSync('ip', ['link', 'add', made[1]!, 'type', 'veth', 'peer', 'name', `pn${pid}x${index}c`]);
    return made;
  }

  /** A pid no process has now. */
  function deadPid(): number {
    const max = Number(execFileSync('cat', ['/proc/sys/kernel/pid_max'], { encoding: 'utf8' }));
    for (;;) {
      const pid = 1000 + Math.floor(Math.random() * (max - 1000));
      try {
        process.kill(pid, 0);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ESRCH') return pid;
      }
    }
  }

  /**
   * Leaves `pid`'s link `index` behind and cleans: the lines it printed and what it removed. Another process making a
   * link at that moment (another jest worker, another checkout's tests) may clean it first: then it is left again.
   */
  function leaveAndClean(pid: number, index: number): { made: string[]; removed: string[]; lines: string[] } {
    for (let attempt = 1; ; attempt++) {
      const made = leaveBehind(pid, index);
      const lines: string[] = [];
      const removed = cleanStale((l) => lines.push(l));
      expect(namespaces()).not.toContain(made[0]);
      expect(hostLinks().filter((l) => l.startsWith(`pn${pid}x${index}`))).toEqual([]);
      if (removed.includes(made[0]!) || attempt === 3) return { made, removed, lines };
    }
  }

  it('removes what a process that is gone left behind, saying so', () => {
    const dead = deadPid();
    const { made, removed, lines } = leaveAndClean(dead, 0);
    expect(removed).toEqual(expect.arrayContaining(made));
    expect(lines.join('\n')).toContain(`${made[0]}, left by process ${dead} which is no longer running`);
  });

  it('removes what an earlier process with this one’s id left (pids are reused), but not its own open link', () => {
    link = createLink();
    const { made, removed, lines } = leaveAndClean(process.pid, 7);
    expect(removed).toEqual(expect.arrayContaining(made));
    expect(lines.join('\n')).toContain(`${made[0]}, left by an earlier process with this process's id (${process.pid})`);
    // The open link is this process's own: untouched.
    expect(namespaces()).toEqual(expect.arrayContaining([link.viewerNs, link.relayNs]));
    expect(removed.join(' ')).not.toContain(link.viewerNs);
  });
});
