import type { PistreamPluginOptions } from './plugin-options';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** The log levels, most severe first; `silent` logs nothing. */
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * A whole pistream server: the listener (port, address, TLS, header timeout), the log level, and the plugin's
 * options. `parseConfig` makes one from flags and `PISTREAM_*` variables; `startServer` runs one.
 */
export interface PistreamConfig {
  readonly port: number;
  readonly host: string;
  /** Serve https and wss with this certificate chain and key (PEM). */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
  /** How long a client may take to send a request's headers before it is cut off (slow-header attacks). */
  readonly headerTimeoutMs: number;
  readonly logLevel: LogLevel;
  /** Everything else: source, codec, encoder, viewers, limits, access. The plugin validates it. */
  readonly plugin: PistreamPluginOptions;
}
