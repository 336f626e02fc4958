import { JOIN_WINDOW, LAG_WINDOW, ViewerLag } from '../../src/server/viewer-lag';

/** A ViewerLag on a hand-driven clock. */
function tracker(capacity?: number) {
  let now = 1000;
  const lag = new ViewerLag({ now: () => now }, capacity);
  return { lag, at: (ms: number) => (now = ms) };
}

describe('ViewerLag', () => {
  it('does not judge a viewer that never acked', () => {
    const { lag, at } = tracker();
    for (let i = 0; i < 50; i++) lag.record(i);
    at(60_000);
    expect(lag.acked).toBe(-1);
    expect(lag.sent).toBe(50);
    expect(lag.pictures).toBe(0);
    expect(lag.ms()).toBe(0);
  });

  it('measures the age of the oldest unacknowledged picture, and is 0 once everything is acknowledged', () => {
    const { lag, at } = tracker();
    at(1000);
    lag.record(900); // picture 1
    at(1100);
    lag.record(1000); // picture 2
    at(1200);
    lag.record(1100); // picture 3
    at(1250);
    // Ack of 1: picture 1 was sent 250 ms ago; picture 2 (sent at 1100) is the oldest waiting.
    expect(lag.ack(1)).toBe(250);
    expect(lag.pictures).toBe(2);
    expect(lag.ms()).toBe(150);
    expect(lag.ackedCapturedAt()).toBe(900);
    at(1900);
    expect(lag.ms()).toBe(800);
    expect(lag.ack(3)).toBe(700);
    expect(lag.ackedCapturedAt()).toBe(1100);
    expect(lag.pictures).toBe(0);
    // Caught up: no lag however long nothing is sent (a viewer whose pictures were dropped can recover).
    at(10_000);
    expect(lag.ms()).toBe(0);
  });

  it('caps acks at what was sent and ignores acks that do not move forward', () => {
    const { lag, at } = tracker();
    lag.record(0);
    lag.record(1);
    at(1040);
    expect(lag.ack(99)).toBe(40);
    expect(lag.acked).toBe(2);
    expect(lag.ack(2)).toBeUndefined();
    expect(lag.ack(1)).toBeUndefined();
    expect(lag.ack(-3)).toBeUndefined();
    expect(lag.ack(Number.NaN)).toBeUndefined();
    expect(lag.acked).toBe(2);
    lag.record(2);
    expect(lag.ack(2.9)).toBeUndefined(); // whole pictures only
    expect(lag.pictures).toBe(1);
  });

  it('counts an ack of 0 as having acked', () => {
    const { lag, at } = tracker();
    lag.record(0);
    at(1300);
    expect(lag.ack(0)).toBeUndefined();
    expect(lag.acked).toBe(0);
    expect(lag.ms()).toBe(300);
  });

  it('keeps a fixed window: beyond it the lag is a lower bound, from the oldest picture it still knows', () => {
    const { lag, at } = tracker(4);
    for (let i = 0; i < 10; i++) {
      at(1000 + i * 100);
      lag.record(i);
    }
    at(2000);
    lag.ack(1);
    // Pictures 2…10 wait; the ring holds 7…10 (sent at 1600…1900).
    expect(lag.pictures).toBe(9);
    expect(lag.ms()).toBe(400);
    expect(lag.ackedCapturedAt()).toBeNaN();
    // An ack of a picture that has left the ring gives no delivery time; one inside it does.
    expect(lag.ack(5)).toBeUndefined();
    expect(lag.ack(8)).toBe(300);
    expect(lag.ackedCapturedAt()).toBe(7);
  });

  it('has a default window of 256 pictures and refuses a useless one', () => {
    expect(LAG_WINDOW).toBe(256);
    expect(() => new ViewerLag({ now: () => 0 }, 0)).toThrow(RangeError);
  });

  describe('sized to need (every viewer holds one)', () => {
    it('holds no ring before the first picture, and a viewer that never acks never grows it past the join window', () => {
      const { lag } = tracker();
      expect(lag.window).toBe(0);
      lag.record(0);
      expect(lag.window).toBe(JOIN_WINDOW);
      for (let i = 1; i < 10 * LAG_WINDOW; i++) lag.record(i);
      expect(lag.window).toBe(JOIN_WINDOW);
      expect(JOIN_WINDOW).toBeLessThan(LAG_WINDOW);
    });

    it('keeps the join window for a viewer that acks as it goes', () => {
      const { lag, at } = tracker();
      for (let i = 0; i < 5000; i++) {
        at(1000 + i * 40);
        lag.record(i);
        if (i % 3 === 2) lag.ack(i + 1);
      }
      expect(lag.window).toBe(JOIN_WINDOW);
      expect(lag.pictures).toBe(2);
    });

    it('grows while acks fall behind, keeping every time it had, so the lag stays exact', () => {
      const { lag, at } = tracker();
      at(1000);
      lag.record(0);
      expect(lag.ack(1)).toBe(0);
      // 100 pictures, 10 ms apart, none acknowledged: more than the join window waits.
      for (let i = 1; i <= 100; i++) {
        at(1000 + i * 10);
        lag.record(i);
      }
      expect(lag.window).toBe(4 * JOIN_WINDOW);
      at(3000);
      // The oldest waiting is picture 2 (index 1), sent at 1010: known exactly, not a lower bound.
      expect(lag.ms()).toBe(1990);
      expect(lag.ack(2)).toBe(1990);
      expect(lag.ackedCapturedAt()).toBe(1);
      expect(lag.ack(60)).toBe(3000 - 1590);
      expect(lag.ackedCapturedAt()).toBe(59);
    });

    it('grows after the join window has wrapped without inventing times for the pictures it had lost', () => {
      const { lag, at } = tracker();
      // 50 pictures before the first ack (more than the join window), 10 ms apart.
      for (let i = 0; i < 50; i++) {
        at(1000 + i * 10);
        lag.record(i);
      }
      at(1600);
      // Picture 3 has left the ring: no delivery time, and the lag is a lower bound from the oldest kept (18, at 1180).
      expect(lag.ack(3)).toBeUndefined();
      expect(lag.ms()).toBe(420);
      for (let i = 50; i < 60; i++) lag.record(i);
      expect(lag.window).toBe(2 * JOIN_WINDOW);
      // Still the oldest it knows: growing did not make the lost pictures' slots look like pictures sent at time 0.
      expect(lag.ms()).toBe(420);
      expect(lag.ack(10)).toBeUndefined();
      expect(lag.ackedCapturedAt()).toBeNaN();
      expect(lag.ack(30)).toBe(1600 - 1290);
      expect(lag.ackedCapturedAt()).toBe(29);
    });

    it('grows no further than its capacity', () => {
      const { lag } = tracker(100);
      lag.record(0);
      lag.ack(1);
      for (let i = 1; i < 1000; i++) lag.record(i);
      expect(lag.window).toBe(100);
    });
  });
});
