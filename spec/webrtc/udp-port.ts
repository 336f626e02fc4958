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
