import { once } from 'node:events';
import type WebSocket from 'ws';
import { binaryFrame, canWriteFrames, sendBinary } from '../../src/server/ws-frame';
import { wsPair } from '../helpers/ws-pair';

/** Collects what the client sees, in order: messages (as hex lengths), pings and the close. */
function record(client: WebSocket): string[] {
  const events: string[] = [];
  client.on('message', (data: Buffer, isBinary) =>
    events.push(`${isBinary ? 'bin' : 'text'}:${data.length}:${data.subarray(0, 4).toString('hex')}`),
  );
  client.on('ping', () => events.push('ping'));
  client.on('close', (code) => events.push(`close:${code}`));
  return events;
}

const payload = (length: number, seed: number): Buffer => Buffer.alloc(length, seed);

describe('binaryFrame', () => {
  it.each([
    [0, '8200'],
    [3, '8203'],
    [125, '827d'],
    [126, '827e007e'],
    [65535, '827effff'],
    [65536, '827f0000000000010000'],
  ])('frames %i bytes with the right length field', (length, header) => {
    const frame = binaryFrame(payload(length, 7));
    expect(frame.subarray(0, header.length / 2).toString('hex')).toBe(header);
    expect(frame.length).toBe(header.length / 2 + length);
    expect(frame.subarray(header.length / 2).equals(payload(length, 7))).toBe(true);
  });
});

describe('sendBinary on a real ws connection (ws pinned: these are the guarantees its internals must keep)', () => {
  it('writes frames directly on a server socket, and the client reads exactly what ws.send would give, in order', async () => {
    const { server, client, close } = await wsPair();
    try {
      expect(canWriteFrames(server)).toBe(true);
      const events = record(client);
      const sizes = [0, 1, 125, 126, 4000, 65535, 65536, 200_000];
      sizes.forEach((size, i) => sendBinary(server, payload(size, i + 1)));
      server.send(payload(10, 0xee), { binary: true }); // ws's own send interleaves in order
      while (events.length < sizes.length + 1) await once(client, 'message');
      expect(events).toEqual([
        ...sizes.map((size, i) => `bin:${size}:${payload(Math.min(size, 4), i + 1).toString('hex')}`),
        `bin:10:${'ee'.repeat(4)}`,
      ]);
    } finally {
      await close();
    }
  });

  it('frames a picture once for every socket: each gets the very same buffer written', async () => {
    const a = await wsPair();
    const b = await wsPair();
    try {
      const writes: Buffer[] = [];
      for (const ws of [a.server, b.server]) {
        const socket = (ws as unknown as { _socket: { write: (chunk: Buffer) => boolean } })._socket;
        const write = socket.write.bind(socket);
        socket.write = (chunk: Buffer) => (writes.push(chunk), write(chunk));
      }
      const picture = payload(5000, 9);
      sendBinary(a.server, picture);
      sendBinary(b.server, picture);
      expect(writes).toHaveLength(2);
      expect(writes[1]).toBe(writes[0]);
      await Promise.all([once(a.client, 'message'), once(b.client, 'message')]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('keeps its place among ping and close frames, and sends nothing once closing', async () => {
    const { server, client, close } = await wsPair();
    try {
      const events = record(client);
      sendBinary(server, payload(100, 1));
      server.ping();
      sendBinary(server, payload(200, 2));
      server.close(1001, 'bye');
      expect(canWriteFrames(server)).toBe(false);
      expect(() => sendBinary(server, payload(300, 3))).not.toThrow();
      await once(client, 'close');
      expect(events).toEqual([`bin:100:${'01'.repeat(4)}`, 'ping', `bin:200:${'02'.repeat(4)}`, 'close:1001']);
    } finally {
      await close();
    }
  });

  it('counts what the peer has not read yet in bufferedAmount, as ws.send does', async () => {
    const { server, client, close } = await wsPair();
    try {
      (client as unknown as { _socket: { pause(): void } })._socket.pause();
      const picture = payload(64 * 1024, 5);
      for (let i = 0; i < 200; i++) sendBinary(server, picture);
      // 12.5 MiB written to a peer that reads nothing: most of it must still be counted as unsent.
      expect(server.bufferedAmount).toBeGreaterThan(4 * 1024 * 1024);
    } finally {
      await close();
    }
  });

  it('falls back to ws.send where a direct write is not the same: client sockets, compression', async () => {
    const plain = await wsPair();
    const deflated = await wsPair(true);
    try {
      expect(canWriteFrames(plain.client)).toBe(false);
      expect(canWriteFrames(deflated.server)).toBe(false);
      const events = record(deflated.client);
      sendBinary(deflated.server, payload(1000, 4));
      await once(deflated.client, 'message');
      expect(events).toEqual([`bin:1000:${'04'.repeat(4)}`]);
      const back = record(plain.server);
      sendBinary(plain.client, payload(50, 6));
      await once(plain.server, 'message');
      expect(back).toEqual([`bin:50:${'06'.repeat(4)}`]);
    } finally {
      await Promise.all([plain.close(), deflated.close()]);
    }
  });

  it('falls back when the internals are not what this ws version had (a stand-in socket)', () => {
    const sent: Buffer[] = [];
    const fake = { readyState: 1, OPEN: 1, send: (data: Buffer) => sent.push(data) } as unknown as WebSocket;
    expect(canWriteFrames(fake)).toBe(false);
    sendBinary(fake, payload(3, 1));
    expect(sent).toEqual([payload(3, 1)]);
  });
});
