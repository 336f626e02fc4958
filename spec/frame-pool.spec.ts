import { FramePool } from '../src/frame';

describe('FramePool', () => {
  it('hands out buffers of its size, new ones while none has come back', () => {
    const pool = new FramePool(100);
    const a = pool.take();
    const b = pool.take();
    expect([a.length, b.length]).toEqual([100, 100]);
    expect(b).not.toBe(a);
    expect(pool.available).toBe(0);
  });

  it('hands a released buffer out again, once however often its release is called', () => {
    const pool = new FramePool(8);
    const a = pool.take();
    const release = pool.releaser(a);
    release();
    release();
    expect(pool.available).toBe(1);
    expect(pool.take()).toBe(a);
    expect(pool.take()).not.toBe(a);
  });

  it('keeps at most `keep` released buffers; the rest are left to the garbage collector', () => {
    const pool = new FramePool(8, 2);
    const buffers = [pool.take(), pool.take(), pool.take()];
    for (const b of buffers) pool.releaser(b)();
    expect(pool.available).toBe(2);
    expect([pool.take(), pool.take()]).toEqual(expect.arrayContaining([buffers[0], buffers[1]]));
  });
});
