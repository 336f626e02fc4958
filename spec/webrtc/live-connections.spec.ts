import { answering, live, mayCleanUp, noneLive } from '../../src/webrtc/live-connections';

/** A stand-in connection whose `released` settles when `release()` is called. */
function connection(): { readonly released: Promise<void>; release(): void } {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  return { released, release };
}

describe('live connections: when the library may be cleaned up', () => {
  it('counts a connection until it has closed, and an answer under way until it settles', async () => {
    expect([noneLive(), mayCleanUp()]).toEqual([true, true]);
    const c = connection();
    expect(live(c)).toBe(c);
    expect([noneLive(), mayCleanUp()]).toEqual([false, false]);
    c.release();
    await c.released;
    await Promise.resolve();
    expect([noneLive(), mayCleanUp()]).toEqual([true, true]);

    let finish!: () => void;
    const answer = answering(() => new Promise<string>((resolve) => (finish = () => resolve('answered'))));
    // Being answered: no connection yet, but the library must not be cleaned up under it.
    expect([noneLive(), mayCleanUp()]).toEqual([true, false]);
    finish();
    await expect(answer).resolves.toBe('answered');
    expect(mayCleanUp()).toBe(true);
  });

  it('stops counting an answer that fails', async () => {
    await expect(answering(() => Promise.reject(new Error('port taken')))).rejects.toThrow('port taken');
    expect(mayCleanUp()).toBe(true);
  });
});
