#!/usr/bin/env node
// First, before anything else loads: an old Node.js gets one line and exit 2.
import './config/check-node';
import { constants } from 'node:os';
import type { Logger } from 'pino';
import { ConfigError, fromStartupError, parseCommandLine, type PistreamConfig } from './config/command-line';
import { DEFAULTS } from './defaults';
import type { RunningServer } from './server/start-server';

/** `startServer`'s signature, narrowed to what the CLI uses, so tests can give it a stand-in. */
export type StartServer = (config: PistreamConfig, options?: { logger?: Logger }) => Promise<Pick<RunningServer, 'url' | 'stop'>>;

/** The process effects the CLI uses, injectable so its exit codes and signal handling can be tested in-process. */
export interface CliEffects {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Ends the process; code after it must not matter (in tests it returns). */
  readonly exit: (code: number) => void;
  readonly onSignal: (signal: 'SIGINT' | 'SIGTERM', handler: () => void) => void;
  /** A timer that must not keep the process alive. */
  readonly setTimer: (fn: () => void, ms: number) => void;
  readonly startServer: StartServer;
}

/** How long a stop may take before the process exits anyway: the original hung until browsers closed. */
export const STOP_TIMEOUT_MS = DEFAULTS.stopTimeoutMs;

/** The real process. */
export function processEffects(): CliEffects {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    exit: (code) => process.exit(code),
    onSignal: (signal, handler) => process.on(signal, handler),
    setTimer: (fn, ms) => setTimeout(fn, ms).unref(),
    // Loaded only to run: --help, --version and flag errors answer without loading hapi and friends.
    startServer: (config, options) =>
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when the server runs
      (require('./server/start-server') as typeof import('./server/start-server')).startServer(config, options),
  };
}

/** An error as one line, whatever it carries (ffmpeg's stderr tail, say). */
function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/**
 * Why the server could not start, in one line, with what to do when we know it: a port in use names the flag
 * that picks another (`--port`, or `--legacy-port` for the legacy listener's).
 */
function startFailure(err: unknown, config: PistreamConfig): string {
  const listen = err as Partial<NodeJS.ErrnoException> & { port?: number };
  if (listen?.code === 'EADDRINUSE' && typeof listen.port === 'number') {
    const flag = listen.port === config.plugin.legacyListener?.port && listen.port !== config.port ? '--legacy-port' : '--port';
    return `port ${listen.port} is in use by another program: stop it or pass ${flag} (${oneLine(err)})`;
  }
  return oneLine(err);
}

/**
 * pistream's command line: flags and `PISTREAM_*` → config → server. Exit codes: 0 after --help, --version or a
 * signal; 2 for a bad flag or variable, or a source or ffmpeg that the start-up checks refuse (`--source
 * file:/tmp/missing.mp4: no such file`); 1 when the server cannot start or stop otherwise. SIGINT/SIGTERM stop the server
 * once and exit 0, within {@link STOP_TIMEOUT_MS} even if stopping hangs; a second signal exits at once (128 +
 * its number, as a shell reports a killed process).
 * @example
 * main(process.argv.slice(2), process.env); // what `pistream --port 8080` runs
 */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv, fx: CliEffects = processEffects()): Promise<void> {
  let config: PistreamConfig;
  try {
    const line = parseCommandLine(argv, env);
    if (line.action !== 'run') {
      fx.stdout(line.text);
      fx.exit(0);
      return;
    }
    config = line.config;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    fx.stderr(`pistream: ${err.message}\n`);
    fx.exit(err.exitCode);
    return;
  }

  // startServer logs its own startup lines ("Watch at http://localhost:8082/ or http://192.168.1.20:8082/"). It is called on
  // the next tick, after the signal handlers are in, so a signal during startup still stops what was started.
  const starting = Promise.resolve().then(() => fx.startServer(config));
  let stopping = false;
  const onSignal = (signal: 'SIGINT' | 'SIGTERM') => {
    if (stopping) {
      fx.exit(128 + constants.signals[signal]);
      return;
    }
    stopping = true;
    fx.setTimer(() => {
      fx.stderr(`pistream: stopping took over ${STOP_TIMEOUT_MS / 1000} s, exiting anyway\n`);
      fx.exit(0);
    }, STOP_TIMEOUT_MS);
    starting
      // A failed start is reported (and exits 1) below.
      .then(
        (running) => running.stop(),
        () => new Promise<void>(() => undefined),
      )
      .then(
        () => fx.exit(0),
        (err: unknown) => {
          fx.stderr(`pistream: while stopping: ${oneLine(err)}\n`);
          fx.exit(1);
        },
      );
  };
  fx.onSignal('SIGINT', () => onSignal('SIGINT'));
  fx.onSignal('SIGTERM', () => onSignal('SIGTERM'));

  try {
    await starting;
  } catch (err) {
    // What the start-up checks refused (a missing file, device, camera program or ffmpeg) is a bad flag too.
    const bad = fromStartupError(err, argv, env);
    fx.stderr(`pistream: ${bad ? bad.message : startFailure(err, config)}\n`);
    fx.exit(bad ? bad.exitCode : 1);
  }
}

if (require.main === module) {
  main(process.argv.slice(2), process.env).catch((err: unknown) => {
    process.stderr.write(`pistream: ${oneLine(err)}\n`);
    process.exit(1);
  });
}
