import Joi from 'joi';
import { DEFAULTS } from '../defaults';
import { limited } from './allowed-text';

/*
 * The listener's options (the server's, not the plugin's: `startServer`'s port, host and header timeout, and the
 * plugin's legacy listener): their limits and defaults, written once, read by the plugin's schema and the CLI.
 */

/**
 * A TCP port; 0: any free one.
 * @example
 * PORT.validate(70000).error?.message; // '"value" must be a whole number from 0 to 65535'
 */
export const PORT = limited(Joi.number().integer().min(0).max(65535));

/** The main listener's port, with its default. */
export const MAIN_PORT = PORT.default(DEFAULTS.port);

/** The address to listen on (a host name or an IP address; `0.0.0.0`: every interface). */
export const HOST = Joi.string().hostname().default(DEFAULTS.host);

/**
 * How long a client may take to send a request's headers before it is cut off (slow-header attacks): at least
 * 50 ms (a client on a LAN sends its headers well within it), at most 10 minutes.
 */
export const HEADER_TIMEOUT_MS = limited(Joi.number().integer().min(50).max(600_000).unit('ms')).default(DEFAULTS.headerTimeoutMs);
