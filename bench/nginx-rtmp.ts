import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';

/** Debian's nginx and its RTMP module (`apt install nginx libnginx-mod-rtmp`): the engine the publishing tests and bench use. */
export const NGINX_PATH = process.env.PISTREAM_NGINX ?? '/usr/sbin/nginx';
export const NGINX_RTMP_MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';

export function hasNginx(): boolean {
  return existsSync(NGINX_PATH) && existsSync(NGINX_RTMP_MODULE);
}

/** Resolves once something accepts TCP connections on the loopback port, or rejects after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > until) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Writes a hermetic nginx-rtmp config into `dir` (its own pid, logs and temp paths, so it runs as any user beside
 * a system nginx; loopback only; `access_log off` in `rtmp{}`, whose default log path is the system's) with
 * `application live` (publish at `rtmp://127.0.0.1:<port>/live/<stream>`) and `application edge`, which pulls
 * each of `streams` from `live` (an origin → edge hop, at `rtmp://127.0.0.1:<port>/edge/<stream>`). Returns the
 * arguments to run nginx with.
 */
export function writeNginxRtmpConfig(dir: string, port: number, streams: readonly string[]): string[] {
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
${streams.map((stream) => `      pull rtmp://127.0.0.1:${port}/live name=${stream} static;`).join('\n')}
    }
  }
}
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body; proxy_temp_path ${dir}/tmp/proxy; fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi; scgi_temp_path ${dir}/tmp/scgi;
}
`,
  );
  return ['-p', dir, '-c', conf, '-e', join(dir, 'logs', 'error.log')];
}
