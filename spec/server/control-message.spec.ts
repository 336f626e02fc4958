import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import vm from 'node:vm';
import {
  ACK_TYPE,
  ackMessage,
  INVALID_REASON,
  soundMessage,
  MAX_CONTROL_MESSAGE,
  parseControlMessage,
  type ControlMessage,
} from '../../src/server/control-message';
import { PUBLIC_DIR } from '../../src/server/pages';

/** public/protocol.js as the page gets it: run as a plain script in a browser-like global, read off `window`. */
function pageProtocol(): { ACK: string; ackMessage(frames: number): string; SOUND: string; soundMessage(on: boolean): string } {
  const window: Record<string, unknown> = {};
  const context = vm.createContext({ window, JSON });
  // A classic script's top-level `this` is the window.
  vm.runInContext(`(function () { ${readFileSync(join(PUBLIC_DIR, 'protocol.js'), 'utf8')} }).call(window);`, context);
  return window.pistreamProtocol as ReturnType<typeof pageProtocol>;
}

const text = (s: string): Buffer => Buffer.from(s, 'utf8');
const invalid = (reason: string): ControlMessage => ({ kind: 'invalid', reason });

describe('parseControlMessage', () => {
  it.each<[string, Buffer | ArrayBuffer | Buffer[], boolean, ControlMessage]>([
    ['an ack', text('{"type":"ack","frames":5}'), false, { kind: 'ack', frames: 5 }],
    ['an ack of 0', text('{"type":"ack","frames":0}'), false, { kind: 'ack', frames: 0 }],
    ['an ack with other fields', text('{"frames":12,"type":"ack","extra":true}'), false, { kind: 'ack', frames: 12 }],
    ['an ack with spaces', text(' { "type" : "ack" , "frames" : 7 } '), false, { kind: 'ack', frames: 7 }],
    ['an ack in an ArrayBuffer', new TextEncoder().encode('{"type":"ack","frames":9}').buffer, false, { kind: 'ack', frames: 9 }],
    ['an ack in fragments', [text('{"type":"a'), text('ck","frames":3}')], false, { kind: 'ack', frames: 3 }],
    ['a sound request', text('{"type":"sound","on":true}'), false, { kind: 'sound', on: true }],
    ['a sound stop', text('{"type":"sound","on":false}'), false, { kind: 'sound', on: false }],
    ['a sound request with on as a string', text('{"type":"sound","on":"true"}'), false, { kind: 'ignored' }],
    ['a sound request without on', text('{"type":"sound"}'), false, { kind: 'ignored' }],
    ['an ack whose frames overflow to Infinity', text('{"type":"ack","frames":1e999}'), false, { kind: 'ignored' }],
    ['an ack with frames as a string', text('{"type":"ack","frames":"5"}'), false, { kind: 'ignored' }],
    ['an ack without frames', text('{"type":"ack"}'), false, { kind: 'ignored' }],
    ['an ack with frames null', text('{"type":"ack","frames":null}'), false, { kind: 'ignored' }],
    ['a type in other case', text('{"type":"ACK","frames":5}'), false, { kind: 'ignored' }],
    ['an unknown type (a newer page)', text('{"type":"hello","v":2}'), false, { kind: 'ignored' }],
    ['an object without a type', text('{}'), false, { kind: 'ignored' }],
    ['an array', text('[1,2]'), false, { kind: 'ignored' }],
    ['a JSON number', text('42'), false, invalid(INVALID_REASON.notObject)],
    ['a JSON string', text('"ack"'), false, invalid(INVALID_REASON.notObject)],
    ['JSON null', text('null'), false, invalid(INVALID_REASON.notObject)],
    ['JSON true', text('true'), false, invalid(INVALID_REASON.notObject)],
    ['text that is not JSON', text('ack 5'), false, invalid(INVALID_REASON.notJson)],
    ['truncated JSON', text('{"type":"ack",'), false, invalid(INVALID_REASON.notJson)],
    ['an empty text', text(''), false, invalid(INVALID_REASON.notJson)],
    ['a binary message, even a valid ack', text('{"type":"ack","frames":5}'), true, invalid(INVALID_REASON.notSmallText)],
    [
      'a text one byte too long',
      text(`{"type":"x","p":"${'a'.repeat(MAX_CONTROL_MESSAGE - 18)}"}`),
      false,
      invalid(INVALID_REASON.notSmallText),
    ],
    [
      'fragments one byte too long together',
      [text('{"type":"x","p":"'), text(`${'a'.repeat(MAX_CONTROL_MESSAGE - 18)}"}`)],
      false,
      invalid(INVALID_REASON.notSmallText),
    ],
  ])('%s', (_label, data, isBinary, expected) => {
    expect(parseControlMessage(data, isBinary)).toEqual(expected);
  });

  it('the oversized cases above are one byte over', () => {
    expect(text(`{"type":"x","p":"${'a'.repeat(MAX_CONTROL_MESSAGE - 18)}"}`).length).toBe(MAX_CONTROL_MESSAGE + 1);
  });

  it('takes a text of exactly MAX_CONTROL_MESSAGE bytes (counted in bytes, not characters)', () => {
    const padding = MAX_CONTROL_MESSAGE - '{"type":"x","p":""}'.length;
    expect(parseControlMessage(text(`{"type":"x","p":"${'a'.repeat(padding)}"}`), false)).toEqual({ kind: 'ignored' });
    // "é" is two bytes in UTF-8: the same number of characters is one byte over.
    const over = text(`{"type":"x","p":"é${'a'.repeat(padding - 1)}"}`);
    expect(over.length).toBe(MAX_CONTROL_MESSAGE + 1);
    expect(parseControlMessage(over, false)).toEqual(invalid(INVALID_REASON.notSmallText));
  });

  it('says why, in the words the viewer closes the socket with', () => {
    expect(INVALID_REASON).toEqual({
      notSmallText: 'viewers send only small JSON control messages',
      notJson: 'control message is not JSON',
      notObject: 'control message is not a JSON object',
    });
    expect(MAX_CONTROL_MESSAGE).toBe(256);
  });
});

describe('the ack of the page and of the server', () => {
  const page = pageProtocol();

  it.each([0, 1, 5, 1234567, 2 ** 32])('the page’s ack of %d reads back as that ack', (frames) => {
    expect(parseControlMessage(Buffer.from(page.ackMessage(frames)), false)).toEqual({ kind: 'ack', frames });
  });

  it('is one format: the server builds the very text the page sends', () => {
    expect(page.ackMessage(5)).toBe('{"type":"ack","frames":5}');
    expect(ackMessage(5)).toBe(page.ackMessage(5));
    expect(ACK_TYPE).toBe(page.ACK);
  });

  it('an ack of a long-running page still fits a control message', () => {
    expect(Buffer.byteLength(page.ackMessage(Number.MAX_SAFE_INTEGER))).toBeLessThanOrEqual(MAX_CONTROL_MESSAGE);
  });

  it('the page sends its acks through that builder, not a JSON text of its own', () => {
    const viewer = readFileSync(join(PUBLIC_DIR, 'viewer-core.js'), 'utf8');
    expect(viewer).toMatch(/\.send\(protocol\.ackMessage\(/);
    expect(viewer).not.toMatch(/type:\s*['"]ack['"]/);
  });

  it('the page loads protocol.js before viewer.js', () => {
    const html = readFileSync(join(PUBLIC_DIR, 'index.html'), 'utf8');
    const protocol = html.indexOf('<script src="protocol.js"></script>');
    expect(protocol).toBeGreaterThan(-1);
    expect(protocol).toBeLessThan(html.indexOf('<script src="viewer.js"></script>'));
  });
});

describe('the sound request of the page and of the server', () => {
  const page = pageProtocol();

  it.each([true, false])('the page’s request with on=%s reads back as that request, built by one function', (on) => {
    expect(parseControlMessage(Buffer.from(page.soundMessage(on)), false)).toEqual({ kind: 'sound', on });
    expect(soundMessage(on)).toBe(page.soundMessage(on));
    expect(page.SOUND).toBe('sound');
  });

  it('the page sends its sound requests through that builder', () => {
    const sound = readFileSync(join(PUBLIC_DIR, 'webcodecs-sound.js'), 'utf8');
    expect(sound).toMatch(/\.send\(protocol\.soundMessage\(/);
    expect(sound).not.toMatch(/type:\s*['"]sound['"]/);
  });
});
