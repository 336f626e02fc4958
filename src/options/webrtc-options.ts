import Joi from 'joi';
import { DEFAULTS } from '../defaults';
import { limited } from './allowed-text';

/** WebRTC (WHEP) viewers: whether, on which UDP port, with which extra host candidates and STUN servers. */
export interface WebRtcOptions {
  /**
   * Serve WebRTC viewers at `/whep`. Default: on when the codec is H.264 and this machine has a WebRTC build, else
   * off (the server says why in one startup line). `true` asks for it: when it cannot be, that line is a warning.
   */
  readonly enabled?: boolean;
  /** The one UDP port every WebRTC viewer shares (one firewall rule). Default 8189. */
  readonly port?: number;
  /** Addresses to offer as host candidates besides the machine's own: a NAT's public address, a Docker host's. */
  readonly addresses?: readonly string[];
  /** STUN servers (`stun:host:port`) for a server-reflexive candidate; none by default (a LAN needs none). */
  readonly stun?: readonly string[];
}

/** The WebRTC options after validation: defaults applied. */
export interface ValidWebRtcOptions {
  readonly enabled?: boolean;
  readonly port: number;
  readonly addresses: readonly string[];
  readonly stun: readonly string[];
}

/** A STUN server URL as libdatachannel takes it. */
const STUN_URL = /^stuns?:[^\s/?#]+$/i;

/** A list whose every entry `item` takes, refused as a whole with `allowed`. Default empty. */
function everyItem(item: Joi.Schema, allowed: string): Joi.ArraySchema {
  return Joi.array()
    .items(Joi.string())
    .custom((list: string[]) => {
      if (list.some((entry) => item.validate(entry).error)) throw new Error('refused');
      return list;
    })
    .default([])
    .messages({ '*': `{{#label}} must be ${allowed}` });
}

/**
 * The schema of `webrtc` (and of `--webrtc-port`, `--webrtc-address` and `--stun`): its limits and defaults.
 * @example
 * webRtcSchema.validate({}).value; // { port: 8189, addresses: [], stun: [] }
 */
export const webRtcSchema = Joi.object({
  enabled: Joi.boolean(),
  // 1..65535: every peer shares this one port, so "any free port" (0) would give each its own.
  port: limited(Joi.number().integer().min(1).max(65535)).default(DEFAULTS.webrtcPort),
  // Checked as a whole, so a refusal names the option (not its nth entry) and the flag that set it.
  addresses: everyItem(Joi.string().ip({ cidr: 'forbidden' }), 'IP addresses such as 203.0.113.7'),
  stun: everyItem(Joi.string().pattern(STUN_URL), 'STUN URLs such as stun:stun.example.com:3478'),
}).default();
