import type { Server } from '@hapi/hapi';
import type { Logger } from 'pino';

/** One log line of the plugin: a self-contained message, and the same facts as fields for JSON logs. */
export type PluginLog = (level: 'info' | 'warn', message: string, details?: object) => void;

/**
 * Logs through hapi-pino's logger when the server has one, else as a hapi server event. Each message is one
 * self-contained line (a terminal shows the message only, see `prettyOptions()` in start-server.ts); `details` are
 * the same facts as fields, for JSON logs.
 *
 * @example
 * pluginLogger(server)('info', 'Recording to /var/pistream', { dir: '/var/pistream' });
 */
export function pluginLogger(server: Server): PluginLog {
  return (level, message, details) => {
    const pinoLogger = (server as unknown as { logger?: Logger }).logger;
    if (pinoLogger) pinoLogger[level](details ?? {}, message);
    else server.log(['pistream', level], { msg: message, ...details });
  };
}
