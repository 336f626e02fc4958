import { CODECS, codecById, labelList, RECORDABLE } from '../../src/codecs';
import { h264 } from '../../src/codecs/h264/h264-codec';
import { mpeg1 } from '../../src/codecs/mpeg1/mpeg1-codec';

describe('the codec registry', () => {
  it('finds each codec by its id, and nothing by another name', () => {
    for (const codec of CODECS) expect(codecById(codec.id)).toBe(codec);
    expect(codecById('vp8')).toBeUndefined();
  });

  it('records the codecs that name a container, and words them as a list', () => {
    expect(RECORDABLE).toEqual(CODECS.filter((codec) => codec.recordAs !== undefined));
    expect(labelList([mpeg1, h264])).toBe('MPEG-1 and H.264');
    expect(labelList([h264])).toBe('H.264');
    expect(labelList([])).toBe('nothing');
    expect(labelList([mpeg1, h264, mpeg1])).toBe('MPEG-1, H.264 and MPEG-1');
  });
});
