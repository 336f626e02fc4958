import {
  drawsBarcode,
  isCameraKind,
  parseSourceText,
  SOURCE_KIND_IDS,
  SOURCE_SYNTAX,
  sourceKind,
  sourceText,
} from '../../src/sources/source-kinds';

describe('source kinds registry', () => {
  it('lists every kind once, auto first', () => {
    expect(SOURCE_KIND_IDS).toEqual(['auto', 'test', 'rpicam', 'libcamera', 'raspivid', 'v4l2', 'file']);
    expect(new Set(SOURCE_KIND_IDS).size).toBe(SOURCE_KIND_IDS.length);
  });

  it('writes the command-line syntax from the kinds', () => {
    expect(SOURCE_SYNTAX).toBe('auto, test, rpicam, libcamera, raspivid, v4l2[:DEVICE] or file:PATH');
  });

  it('parses --source text into a kind and its argument', () => {
    expect(parseSourceText('auto')).toEqual({ kind: 'auto' });
    expect(parseSourceText('v4l2')).toEqual({ kind: 'v4l2' });
    expect(parseSourceText('v4l2:/dev/video1')).toEqual({ kind: 'v4l2', device: '/dev/video1' });
    expect(parseSourceText('file:a:b.mp4')).toEqual({ kind: 'file', path: 'a:b.mp4' });
  });

  it('refuses unknown kinds, a missing required argument, an empty one, and an argument to a kind that takes none', () => {
    for (const text of ['webcam', 'file', 'file:', 'v4l2:', 'test:x', '', 'Auto']) expect(parseSourceText(text)).toBeUndefined();
  });

  it('writes a spec back as --source text', () => {
    expect(sourceText({ kind: 'file', path: 'demo.mp4' })).toBe('file:demo.mp4');
    expect(sourceText({ kind: 'v4l2' })).toBe('v4l2');
    expect(sourceText({ kind: 'observable' })).toBe('observable');
  });

  it('says which kinds are cameras and which draws the barcode', () => {
    expect(SOURCE_KIND_IDS.filter(isCameraKind)).toEqual(['rpicam', 'libcamera', 'raspivid', 'v4l2']);
    expect(SOURCE_KIND_IDS.filter(drawsBarcode)).toEqual(['test']);
    expect(isCameraKind('observable')).toBe(false);
    expect(sourceKind('hub')).toBeUndefined();
  });
});
