import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { join } from 'node:path';

/** Debian's nginx and its RTMP module (`apt install nginx libnginx-mod-rtmp`). */
export const NGINX_PATH = process.env.PISTREAM_NGINX ?? '/usr/sbin/nginx';
export const NGINX_RTMP_MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';

export function hasNginx(): boolean {
  return existsSync(NGINX_PATH) && existsSync(NGINX_RTMP_MODULE);
}

/**
 * `describe` for suites that need nginx with the RTMP module: skipped (saying why) when either is missing, unless
 * `PISTREAM_REQUIRE_NGINX=1` (CI), where a missing one fails with what to install.
 */
export function describeNginx(name: string, fn: () => void): void {
  if (hasNginx()) {
    describe(name, fn);
  } else if (process.env.PISTREAM_REQUIRE_NGINX === '1') {
    describe(name, () => {
      it('needs nginx with the RTMP module', () => {
        throw new Error(
          `PISTREAM_REQUIRE_NGINX=1 but ${existsSync(NGINX_PATH) ? `there is no ${NGINX_RTMP_MODULE}` : `there is no nginx at ${NGINX_PATH}`}: ` +
            'install them (apt install nginx libnginx-mod-rtmp) or point PISTREAM_NGINX at one',
        );
      });
    });
  } else {
    describe.skip(`${name} (skipped: no nginx with the RTMP module: apt install nginx libnginx-mod-rtmp)`, fn);
  }
}

/** A free TCP port on loopback (free when asked: good enough for a test's own server). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on the port, or rejects after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > until) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
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
 * Writes a hermetic config into `dir` (research publish-and-scale §2.1: its own prefix, pid, logs and temp paths,
 * loopback only, `access_log off` in `rtmp{}`) for `rtmp://127.0.0.1:<port>/live/<stream>` and
 * `rtmp://127.0.0.1:<port>/edge/<stream>`.
 */
export async function nginxRtmp(dir: string, stream = 'cam'): Promise<Nginx> {
  const port = await freePort();
  const httpPort = await freePort();
  for (const sub of ['tmp', 'logs']) mkdirSync(join(dir, sub), { recursive: true });
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `load_module ${NGINX_RTMP_MODULE};
daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log info;
events { worker_connections 256; }
rtmp {
  server {
    listen 127.0.0.1:${port};
    access_log off;
    chunk_size 4096;
    application live {
      live on; record off; wait_key on; wait_video on; idle_streams off;
      allow publish 127.0.0.1; deny publish all; allow play 127.0.0.1; deny play all;
    }
    application edge {
      live on;
      pull rtmp://127.0.0.1:${port}/live name=${stream} static;
    }
  }
}
http {
  access_log ${dir}/logs/access.log;
  client_body_temp_path ${dir}/tmp/body; proxy_temp_path ${dir}/tmp/proxy; fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi; scgi_temp_path ${dir}/tmp/scgi;
  server { listen 127.0.0.1:${httpPort}; location /stat { rtmp_stat all; } }
}
`,
  );
  let child: ChildProcess | undefined;
  return {
    port,
    dir,
    async start() {
      child = spawn(NGINX_PATH, ['-p', dir, '-c', conf, '-e', join(dir, 'logs', 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<never>((_, reject) => child!.once('exit', (code) => reject(new Error(`nginx exited (${code}): ${stderr}`))));
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
