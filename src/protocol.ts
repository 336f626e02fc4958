/**
 * The wire facts the page and the server share, defined once in public/protocol.js (a plain script the page
 * loads, and Node requires): the page's control messages, the `/h264` message header and its sound messages' header. This module types it.
 */

/** An `/h264` message header as {@link SharedProtocol.readUnitHeader} reads it. */
export interface UnitHeader {
  readonly version: number;
  readonly key: boolean;
  readonly width: number;
  readonly height: number;
  readonly seq: number;
  readonly capturedAt: number;
  /** The codec string, `''` when the unit carries none (delta units). */
  readonly codec: string;
  /** Where the access unit starts. */
  readonly offset: number;
}

/** A sound message's header as {@link SharedProtocol.readSoundHeader} reads it. */
export interface SoundHeader {
  readonly channels: number;
  readonly sampleRate: number;
  /** Capture time of the frame's first sample (ms since the epoch). */
  readonly capturedAt: number;
  /** The codec string (`'opus'`). */
  readonly codec: string;
  /** Where the coded frame starts. */
  readonly offset: number;
}

/** What public/protocol.js exports. */
export interface SharedProtocol {
  readonly ACK: string;
  ackMessage(frames: number): string;
  readonly SOUND: string;
  soundMessage(on: boolean): string;
  readonly UNIT_VERSION: number;
  readonly UNIT_FLAG_KEY: number;
  readonly UNIT_FIXED_SIZE: number;
  readUnitHeader(buffer: ArrayBuffer): UnitHeader | null;
  readonly SOUND_KIND: number;
  readonly SOUND_FIXED_SIZE: number;
  readSoundHeader(buffer: ArrayBuffer): SoundHeader | null;
}

// src/ and dist/ both sit one level below the package root, as public/ does (the package ships it).
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain script, not a module: required for its exports
export const protocol = require('../public/protocol.js') as SharedProtocol;
