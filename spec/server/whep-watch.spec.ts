import { lookAtPictures, startPictureWatch, WHEP_NO_PICTURE_MS } from '../../src/server/whep-watch';

describe('lookAtPictures (a WebRTC viewer without pictures is told to the operator)', () => {
  const joined = startPictureWatch(100, 0);

  it('stalls a viewer that has had no picture for the limit while the stream made pictures, once', () => {
    expect(lookAtPictures(joined, 0, 150, WHEP_NO_PICTURE_MS - 1).change).toBeUndefined();
    const stalled = lookAtPictures(joined, 0, 340, WHEP_NO_PICTURE_MS);
    expect(stalled).toEqual({ watch: { ...joined, stalled: true }, change: 'stalled' });
    expect(lookAtPictures(stalled.watch, 0, 400, 3 * WHEP_NO_PICTURE_MS)).toEqual({ watch: stalled.watch });
  });

  it('stalls no viewer while the stream itself makes no picture (a camera restarting)', () => {
    expect(lookAtPictures(joined, 0, 100, 5 * WHEP_NO_PICTURE_MS).change).toBeUndefined();
  });

  it('says when a stalled viewer gets pictures again, and counts the limit from its last picture', () => {
    const stalled = lookAtPictures(joined, 0, 340, WHEP_NO_PICTURE_MS).watch;
    const flowing = lookAtPictures(stalled, 3, 345, WHEP_NO_PICTURE_MS + 2000);
    expect(flowing).toEqual({ watch: { sent: 3, made: 345, since: WHEP_NO_PICTURE_MS + 2000, stalled: false }, change: 'flowing' });
    expect(lookAtPictures(flowing.watch, 3, 500, 2 * WHEP_NO_PICTURE_MS + 1999).change).toBeUndefined();
    expect(lookAtPictures(flowing.watch, 3, 500, 2 * WHEP_NO_PICTURE_MS + 2000).change).toBe('stalled');
  });

  it('says nothing of a viewer that keeps getting pictures', () => {
    let watch = joined;
    for (let t = 2000, sent = 0; t < 10 * WHEP_NO_PICTURE_MS; t += 2000) {
      sent += 48;
      const look = lookAtPictures(watch, sent, 100 + sent, t);
      expect(look.change).toBeUndefined();
      watch = look.watch;
    }
  });
});
