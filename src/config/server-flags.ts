import Joi from 'joi';
import { DEFAULTS, upgradeBurst } from '../defaults';
import { allowedText, defaultOf, numberLimits } from '../options/allowed-text';
import { HOST_PATTERN } from '../options/host-allowlist';
import { HEADER_TIMEOUT_MS, HOST, MAIN_PORT, PORT } from '../options/listener-options';
import { TOKEN, UPGRADES_PER_SECOND } from '../options/plugin-options';
import { LOG_LEVELS } from '../options/server-config';
import { durationHelp } from './duration-text';
import type { FlagSpec } from './flag-values';
import { boolean, BOOLEAN, duration, encoderAllowed, list, normalizeOrigin, optionSchema, pluginNumber, token } from './flag-values';

/** The flags of the server: where it listens, who may watch (hosts, origins, auth, limits), WebRTC, and how a slow viewer is treated. */
export const SERVER_FLAGS: readonly FlagSpec[] = [
  {
    key: 'port',
    flag: '--port <port>',
    shown: String(defaultOf(MAIN_PORT)),
    target: 'port',
    help: 'HTTP and WebSocket port (0: any free port)',
    schema: PORT,
    allowed: allowedText(PORT),
  },
  {
    key: 'host',
    flag: '--host <address>',
    shown: String(defaultOf(HOST)),
    target: 'host',
    help: 'address to listen on (0.0.0.0: every interface)',
    schema: Joi.string().hostname(),
    allowed: 'a host name or an IP address',
  },
  {
    key: 'legacyPort',
    flag: '--legacy-port <port>',
    help: 'also serve the original pistreaming protocol on this port, at any path (the original used 8084)',
    ...pluginNumber('plugin.legacyListener.port'),
  },
  {
    key: 'ffmpeg',
    flag: '--ffmpeg <path>',
    shown: 'ffmpeg on PATH, else the bundled one',
    target: 'plugin.encoder.ffmpeg',
    help: 'the ffmpeg binary to run',
    schema: Joi.string().min(1),
    allowed: encoderAllowed('ffmpeg'),
  },
  {
    key: 'alwaysOn',
    flag: '--always-on',
    shown: 'off',
    target: 'plugin.alwaysOn',
    help: 'start the camera at startup and keep it running, rather than on the first viewer',
    schema: boolean,
    allowed: BOOLEAN,
  },
  {
    key: 'grace',
    flag: '--grace <seconds>',
    target: 'plugin.graceMs',
    help: `how long the camera keeps running after the last viewer leaves (${durationHelp('s')})`,
    ...duration('s', optionSchema('plugin.graceMs')),
  },
  {
    key: 'logLevel',
    flag: '--log-level <level>',
    shown: DEFAULTS.logLevel,
    target: 'logLevel',
    help: LOG_LEVELS.join(', '),
    schema: Joi.string().valid(...LOG_LEVELS),
    allowed: LOG_LEVELS.join(', '),
  },
  {
    key: 'allowOrigin',
    flag: '--allow-origin <origin>',
    shown: "none (only the page's own)",
    repeatable: true,
    target: 'plugin.allowOrigins',
    help: 'also let pages from this origin (e.g. https://example.com) open the streams; repeat it or give a comma list; * allows any site',
    schema: list.custom((v: string[]) => v.map(normalizeOrigin)),
    allowed: 'origins like https://example.com (comma-separated) or *',
  },
  {
    key: 'allowedHosts',
    flag: '--allowed-hosts <names>',
    shown: `${DEFAULTS.allowedHosts.join(', ')}, IP addresses, this machine's name and NAME.local, the TLS certificate's names`,
    repeatable: true,
    target: 'plugin.allowedHosts',
    help: 'also answer to these host names (cam.example.com, *.example.com; repeat it or give a comma list); requests naming any other host get 403 (DNS rebinding); * answers to any',
    schema: list.custom((v: string[]) => {
      const bad = v.find((name) => !HOST_PATTERN.test(name));
      if (bad !== undefined) throw new Error(`not a host name: ${bad}`);
      return v;
    }),
    allowed: 'host names such as cam.example.com or *.example.com (comma-separated), or *',
  },
  {
    key: 'frameAncestors',
    flag: '--frame-ancestors <sources>',
    shown: String(defaultOf(optionSchema('plugin.frameAncestors'))),
    target: 'plugin.frameAncestors',
    help: 'who may show the page in a frame (CSP frame-ancestors), e.g. "\'self\' http://homeassistant.local:8123" for a Home Assistant iframe card',
    schema: Joi.string(),
    allowed: allowedText(optionSchema('plugin.frameAncestors')),
  },
  {
    key: 'trustProxy',
    flag: '--trust-proxy <addresses>',
    shown: 'none',
    repeatable: true,
    target: 'plugin.trustProxy',
    help: 'reverse proxies (addresses, CIDR blocks, loopback, private) whose X-Forwarded-For names the client, for the per-address limit and logs',
    schema: list,
    allowed: 'addresses, CIDR blocks (10.0.0.0/8), loopback or private, comma-separated',
  },
  {
    key: 'auth',
    flag: '--auth <user:password>',
    shown: 'off',
    help: 'require HTTP Basic auth with this user and password for the page, the streams, /healthz and /metrics',
    schema: Joi.string().pattern(/^[^:]+:.+$/),
    allowed: 'user:password (a user name without ":" and a password)',
    secret: (v) => (!v.includes(':') ? 'has no ":"' : v.startsWith(':') ? 'has no user name before ":"' : 'has no password after ":"'),
  },
  {
    key: 'authFile',
    flag: '--auth-file <path>',
    shown: 'off',
    help: 'require HTTP Basic auth with the users of this file of user:scrypt$SALT$KEY lines (see README, Security)',
    schema: Joi.string().min(1),
    allowed: 'a path to a file of user:scrypt$SALT$KEY lines',
  },
  {
    key: 'token',
    flag: '--token <token>',
    shown: 'off',
    help: 'require this token (?token=… in the page URL, or Authorization: Bearer …); prefer the variable, which ps does not show',
    schema: TOKEN,
    allowed: allowedText(TOKEN),
    secret: (v) => (v.length < token.min! ? `has fewer than ${token.min} characters` : `has more than ${token.max} characters`),
  },
  {
    key: 'publicHealth',
    flag: '--public-health',
    shown: 'off',
    target: 'plugin.publicHealth',
    help: 'leave /healthz and /metrics open to anyone when --auth, --auth-file or --token is set',
    schema: boolean,
    allowed: BOOLEAN,
  },
  {
    key: 'tlsCert',
    flag: '--tls-cert <path>',
    shown: 'off',
    help: 'serve https and wss with this certificate (PEM, chain included); needs --tls-key',
    schema: Joi.string().min(1),
    allowed: 'a path to a PEM certificate',
  },
  {
    key: 'tlsKey',
    flag: '--tls-key <path>',
    shown: 'off',
    help: 'the private key (PEM) of --tls-cert',
    schema: Joi.string().min(1),
    allowed: 'a path to a PEM private key',
  },
  {
    key: 'maxViewers',
    flag: '--max-viewers <n>',
    help: 'most viewers at once, legacy listener included; more are closed with 1013 (try again later)',
    ...pluginNumber('plugin.maxViewers'),
  },
  {
    key: 'maxViewersPerAddress',
    flag: '--max-viewers-per-address <n>',
    help: 'most viewers at once from one address, over every stream and player; more are closed with 1013; 0: no cap',
    ...pluginNumber('plugin.maxViewersPerAddress'),
  },
  {
    key: 'headerTimeout',
    flag: '--header-timeout <seconds>',
    help: `how long a client may take to send its request headers before it is cut off (slow-header attacks; ${durationHelp('s')})`,
    ...duration('s', HEADER_TIMEOUT_MS, true),
  },
  {
    key: 'upgradeRate',
    flag: '--upgrade-rate <per-second>',
    shown: String((defaultOf(optionSchema('plugin.upgradeRate')) as { perSecond: number }).perSecond),
    help: `WebSocket connections per second allowed from one address, in bursts of up to ${upgradeBurst(1)}× that; beyond, 429; 0: no limit`,
    // 0 is the flag's word for upgradeRate: false, so it is checked here: the plugin never sees a 0 rate.
    schema: Joi.number().min(0).max(numberLimits(UPGRADES_PER_SECOND).max!),
    allowed: `a number from 0 to ${numberLimits(UPGRADES_PER_SECOND).max}`,
  },
  {
    key: 'webrtc',
    flag: '--webrtc <on|off>',
    shown: 'on with --codec h264 where this machine has a WebRTC build',
    target: 'plugin.webrtc.enabled',
    help: 'serve WebRTC viewers (WHEP at /whep: UDP, for phones and Wi-Fi); off, or on to be warned when it cannot be',
    schema: boolean,
    allowed: BOOLEAN,
  },
  {
    key: 'webrtcPort',
    flag: '--webrtc-port <port>',
    help: 'the one UDP port every WebRTC viewer shares: open it in the firewall',
    ...pluginNumber('plugin.webrtc.port'),
  },
  {
    key: 'webrtcAddress',
    flag: '--webrtc-address <addresses>',
    shown: "none (the machine's own addresses)",
    repeatable: true,
    target: 'plugin.webrtc.addresses',
    help: 'also offer WebRTC viewers these IP addresses (a NAT or Docker host that forwards --webrtc-port); repeat it or give a comma list',
    schema: list,
    allowed: 'IP addresses such as 203.0.113.7 (comma-separated)',
  },
  {
    key: 'stun',
    flag: '--stun <url>',
    shown: 'none',
    repeatable: true,
    target: 'plugin.webrtc.stun',
    help: 'ask this STUN server (stun:host:port) for the public address to offer WebRTC viewers; a LAN needs none',
    schema: list,
    allowed: 'STUN URLs such as stun:stun.example.com:3478 (comma-separated)',
  },
  {
    key: 'maxLag',
    flag: '--max-lag <ms>',
    target: 'plugin.maxLagMs',
    help:
      'a viewer whose page has left a picture unacknowledged this long skips pictures until it catches up, then resumes at a keyframe; ' +
      `one slow that way for ${Number(defaultOf(optionSchema('plugin.stuckMs'))) / 1000} s is closed (1008) and reconnects; 0: no bound (${durationHelp('ms')})`,
    ...duration('ms', optionSchema('plugin.maxLagMs')),
  },
  {
    key: 'highWaterMark',
    flag: '--high-water-mark <bytes>',
    help: "unsent bytes on a viewer's socket above which it skips pictures (judges clients that cannot ack, such as the original jsmpg.js)",
    ...pluginNumber('plugin.highWaterMark'),
    shown: `${String(defaultOf(optionSchema('plugin.highWaterMark')))} (${Number(defaultOf(optionSchema('plugin.highWaterMark'))) / 1024} KiB)`,
  },
];
