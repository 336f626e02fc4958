import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { freePort } from '../../bench/children';
import { hasNginx, NGINX_PATH, NGINX_RTMP_MODULE, waitForPort, writeNginxRtmpConfig } from '../../bench/nginx-rtmp';
import { describeNeeding } from './describe-needing';

export { freePort, hasNginx, NGINX_PATH, waitForPort };

/**
 * `describe` for suites that need nginx with the RTMP module: skipped (saying why) when either is missing, unless
 * `PISTREAM_REQUIRE_NGINX=1` (CI), where a missing one fails with what to install.
 */
export function describeNginx(name: string, fn: () => void): void {
  describeNeeding(
    {
      available: hasNginx,
      requireEnv: 'PISTREAM_REQUIRE_NGINX',
      needs: 'needs nginx with the RTMP module',
      missing: () =>
        `${existsSync(NGINX_PATH) ? `there is no ${NGINX_RTMP_MODULE}` : `there is no nginx at ${NGINX_PATH}`}: ` +
        'install them (apt install nginx libnginx-mod-rtmp) or point PISTREAM_NGINX at one',
      skipNote: 'no nginx with the RTMP module: apt install nginx libnginx-mod-rtmp',
    },
    name,
    fn,
  );
}

/** An nginx-rtmp of the test's own: `live` (publish here) and `edge`, which pulls `live/<stream>` (origin → edge). */
export interface Nginx {
  readonly port: number;
  readonly dir: string;
  /** Starts it (again) and resolves once it listens. */
  start(): Promise<void>;
  /** SIGTERM (nginx's fast shutdown: connections cut at once) and resolves once it has exited. */
  stop(): Promise<void>;
}

/**
 * An nginx-rtmp of the test's own on a free loopback port (bench/nginx-rtmp.ts writes its config), for
 * `rtmp://127.0.0.1:<port>/live/<stream>` and `rtmp://127.0.0.1:<port>/edge/<stream>`.
 */
export async function nginxRtmp(dir: string, stream = 'cam'): Promise<Nginx> {
  const port = await freePort();
  const args = writeNginxRtmpConfig(dir, port, [stream]);
  let child: ChildProcess | undefined;
  return {
    port,
    dir,
    async start() {
      child = spawn(NGINX_PATH, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<never>((_, reject) =>
        child!.once('exit', (code) => reject(new Error(`nginx exited (${code}): ${stderr}`))),
      );
      await Promise.race([waitForPort(port), exited]);
      exited.catch(() => undefined);
    },
    async stop() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
      running.kill('SIGTERM');
      const timer = setTimeout(() => running.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}
