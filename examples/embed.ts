// A host app's own hapi server, streaming its own frames through pistream under /cam (run: npx ts-node examples/embed.ts).
import Hapi from '@hapi/hapi';
import { map } from 'rxjs';
import { pistreamPlugin, testPattern, type Frame } from '../src';

export async function startEmbedded(port = Number(process.env.PORT ?? 3000)): Promise<Hapi.Server> {
  const server = Hapi.server({ port, host: '127.0.0.1' });
  server.route({ method: 'GET', path: '/', handler: () => ({ app: 'my app', camera: '/cam/' }) });
  // Any Observable<Frame> will do: here the test pattern with a white band drawn over its bottom rows.
  const frames$ = testPattern({ width: 640, height: 480, fps: 24 }).pipe(
    map((f): Frame => ({ ...f, data: Buffer.from(f.data).fill(235, 640 * 440, 640 * 460) })),
  );
  await server.register({
    plugin: pistreamPlugin,
    options: { source: frames$, encoder: { width: 640, height: 480, fps: 24 } },
    routes: { prefix: '/cam' },
  });
  await server.start();
  return server;
}

if (require.main === module) void startEmbedded().then((s) => console.log(`app on ${s.info.uri}/, camera on ${s.info.uri}/cam/`));
