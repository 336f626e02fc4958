import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { createSocket } from 'node:dgram';

/** A UDP port nobody uses at the moment (for a server's one shared WebRTC port). */
export function freeUdpPort(): Promise<number> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.bind(0, () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

/** The socket inodes bound to UDP `port` (IPv4 and IPv6), from /proc/net (Linux). */
function udpInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const row of text.split('\n').slice(1)) {
      const fields = row.trim().split(/\s+/);
      if (fields.length > 9 && parseInt(fields[1]!.split(':')[1]!, 16) === port) inodes.add(fields[9]!);
    }
  }
  return inodes;
}

/**
 * The processes that hold a socket bound to UDP `port` (Linux, /proc; those of other users are not seen): the ids of
 * every process with a descriptor of it, e.g. a child that got a copy of a socket without close-on-exec.
 */
export function udpPortHolders(port: number): number[] {
  const inodes = [...udpInodes(port)].map((inode) => `socket:[${inode}]`);
  const holders: number[] = [];
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      if (readdirSync(`/proc/${pid}/fd`).some((fd) => inodes.includes(readlinkSync(`/proc/${pid}/fd/${fd}`)))) holders.push(Number(pid));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return holders;
}
