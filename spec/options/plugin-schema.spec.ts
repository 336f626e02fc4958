import Joi from 'joi';
import { allowedText, defaultOf, lengthLimits } from '../../src/options/allowed-text';
import { pluginSchema, validatePluginOptions } from '../../src/options/plugin-options';
import { PluginOptionsError } from '../../src/options/plugin-options-error';
import { recordInMs } from '../../src/options/record-publish-options';
import { standInHub } from '../helpers/stand-in-hub';

describe('allowedText', () => {
  it('says a number schema in words, in its unit or in another', () => {
    const ms = Joi.number().integer().min(0).max(86_400_000).unit('ms');
    expect(allowedText(ms)).toBe('a whole number of ms from 0 to 86400000');
    expect(allowedText(ms, { name: 'seconds', factor: 1000 })).toBe('a number of seconds from 0 to 86400');
    expect(allowedText(Joi.number().integer().min(50).max(600_000), { name: 'seconds', factor: 1000 })).toBe(
      'a number of seconds from 0.05 to 600',
    );
    expect(allowedText(Joi.number().integer().min(0).max(10).meta({ zero: 'off' }))).toBe('a whole number from 0 (off) to 10');
    expect(allowedText(Joi.number().integer().min(1).unit('ms'))).toBe('a whole number of ms, at least 1');
  });

  it('says a list of values and a string length', () => {
    expect(allowedText(Joi.string().valid('silent', 'none'))).toBe('silent or none');
    expect(allowedText(Joi.string().min(8).max(512).unit('token'))).toBe('a token of 8 to 512 characters');
    expect(lengthLimits(Joi.string().min(8).max(512))).toEqual({ min: 8, max: 512 });
  });

  it('reads a default', () => {
    expect(defaultOf(Joi.number().default(500))).toBe(500);
    expect(defaultOf(Joi.number())).toBeUndefined();
  });
});

describe('the plugin schema owns every option fact', () => {
  it('gives every duration in ms, with its default', () => {
    for (const key of ['graceMs', 'watchdogMs', 'maxLagMs', 'stuckMs', 'heartbeatMs', 'record.segmentMs', 'record.syncMs']) {
      expect(pluginSchema.extract(key).describe().flags).toMatchObject({ unit: 'ms' });
      expect(typeof defaultOf(pluginSchema.extract(key))).toBe('number');
    }
  });

  it('takes a token of 8 to 512 characters, as the CLI does', () => {
    const tooShort = (): unknown => validatePluginOptions({ hub: standInHub(), auth: { token: 'short' } });
    expect(tooShort).toThrow(PluginOptionsError);
    expect(tooShort).toThrow('auth.token must be a token of 8 to 512 characters');
    expect(validatePluginOptions({ hub: standInHub(), auth: { token: 'eight-ch' } }).auth).toEqual({ token: 'eight-ch' });
  });

  it('records with durations in ms, defaults applied', () => {
    const record = validatePluginOptions({ hub: standInHub(), record: { dir: '/tmp/rec', keepMs: 3_600_000 } }).record;
    expect(record).toMatchObject({ dir: '/tmp/rec', segmentMs: 60_000, syncMs: 2000, keepMs: 3_600_000, minFree: '5%' });
  });

  it('still takes the deprecated seconds names of record, as ms', () => {
    expect(recordInMs({ dir: 'rec', segmentSeconds: 30, keepSeconds: 1.5, syncSeconds: 0 })).toEqual({
      dir: 'rec',
      segmentMs: 30_000,
      keepMs: 1500,
      syncMs: 0,
    });
    const record = validatePluginOptions({ hub: standInHub(), record: { dir: '/tmp/rec', segmentSeconds: 10 } }).record;
    expect(record).toMatchObject({ segmentMs: 10_000 });
    expect(record).not.toHaveProperty('segmentSeconds');
    expect(() => recordInMs({ dir: 'rec', segmentSeconds: 30, segmentMs: 30_000 })).toThrow(
      'record.segmentSeconds is segmentMs in seconds',
    );
    expect(recordInMs(undefined)).toBeUndefined();
  });
});

describe('webrtc options', () => {
  const base = { source: { kind: 'test' as const }, encoder: { width: 640, height: 480, fps: 24 } };

  it('default to the one shared port 8189, no announced address and no STUN, enabled left to the server', () => {
    expect(validatePluginOptions(base).webrtc).toEqual({ port: 8189, addresses: [], stun: [] });
  });

  it('take addresses, STUN servers and a switch', () => {
    const webrtc = { enabled: false, port: 9000, addresses: ['203.0.113.7', '::1'], stun: ['stun:stun.example.com:3478'] };
    expect(validatePluginOptions({ ...base, webrtc }).webrtc).toEqual(webrtc);
  });

  it.each([
    [{ port: 0 }, 'webrtc.port'],
    [{ addresses: ['cam.local'] }, 'webrtc.addresses'],
    [{ stun: ['https://stun.example.com'] }, 'webrtc.stun'],
  ])('refuse %j, naming %s', (webrtc, path) => {
    expect(() => validatePluginOptions({ ...base, webrtc })).toThrow(PluginOptionsError);
    expect(() => validatePluginOptions({ ...base, webrtc })).toThrow(new RegExp(`${path.replace('.', '\\.')} must be`));
  });
});
