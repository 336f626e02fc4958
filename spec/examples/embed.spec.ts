import type Hapi from '@hapi/hapi';
import { startEmbedded } from '../../examples/embed';
import { ffmpegChildren, waitFor } from '../helpers/child-processes';
import { demuxPes, tsPackets } from '../helpers/mpegts-demux';
import { connect, refusedStatus, type WsClient } from '../helpers/ws-client';

describe('examples/embed.ts: pistream inside a host app under /cam', () => {
  let server: Hapi.Server;
  let base: string;
  let baseline: Set<number>;
  const clients: WsClient[] = [];
  const ourFfmpeg = (): number[] => ffmpegChildren().filter((pid) => !baseline.has(pid));

  beforeAll(async () => {
    baseline = new Set(ffmpegChildren());
    server = await startEmbedded(0);
    base = `127.0.0.1:${server.info.port}`;
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server.stop();
    await waitFor(() => ourFfmpeg().length === 0, 'ffmpeg to exit');
  });

  it("keeps the app's own route at /", async () => {
    const res = await fetch(`http://${base}/`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ app: 'my app', camera: '/cam/' });
  });

  it('serves the viewer page at /cam/ (and sends /cam there)', async () => {
    const page = await fetch(`http://${base}/cam/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toMatch(/<html/i);
    const bare = await fetch(`http://${base}/cam`, { redirect: 'manual' });
    expect(bare.status).toBe(302);
    expect(bare.headers.get('location')).toBe('/cam/');
  });

  it('streams MPEG-TS at /cam/stream, starting at a keyframe', async () => {
    const viewer = await connect(`ws://${base}/cam/stream`);
    clients.push(viewer);
    const [first, second] = await viewer.received(2);
    expect([...first!.subarray(0, 3)]).toEqual([0x47, 0x40, 0x00]);
    tsPackets(second!);
    expect([...demuxPes(first!)[0]!.data.subarray(0, 4)]).toEqual([0, 0, 1, 0xb3]);
    expect(ourFfmpeg()).toHaveLength(1);
    await viewer.close();
  });

  it('serves the legacy protocol at /cam/legacy, and nothing at /stream', async () => {
    const legacy = await connect(`ws://${base}/cam/legacy`);
    clients.push(legacy);
    const [header] = await legacy.received(1);
    expect(header!.subarray(0, 4).toString('latin1')).toBe('jsmp');
    await legacy.close();
    expect(await refusedStatus(`ws://${base}/stream`)).toBe(404);
  });

  it('stops the encoder with the server', async () => {
    const viewer = await connect(`ws://${base}/cam/stream`);
    clients.push(viewer);
    await viewer.received(1);
    await server.stop();
    expect((await viewer.closed).code).toBe(1001);
    await waitFor(() => ourFfmpeg().length === 0, 'ffmpeg to exit');
  });
});
