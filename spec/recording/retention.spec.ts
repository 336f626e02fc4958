import fc from 'fast-check';
import { segmentsToDelete, type SegmentInfo } from '../../src/recording/retention';

const seg = (start: number, size = 100): SegmentInfo => ({
  name: `s${String(start).padStart(6, '0')}`,
  startMs: start,
  endMs: start + 1000,
  size,
});

describe('segmentsToDelete', () => {
  const segments = [seg(0), seg(1000), seg(2000), seg(3000)];

  it('keeps everything without a policy', () => {
    expect(segmentsToDelete(segments, 1e9, {})).toEqual([]);
  });

  it("deletes by age of the footage's end, oldest first", () => {
    // Now 5000, keep 2500: segments ending before 2500 go (0–1000, 1000–2000); 2000–3000 ends at 3000, kept.
    expect(segmentsToDelete(segments, 5000, { keepMs: 2500 }).map((s) => s.startMs)).toEqual([0, 1000]);
  });

  it('deletes the oldest while the total is above maxBytes, counting the open one but never deleting it', () => {
    expect(segmentsToDelete(segments, 0, { maxBytes: 250 }, 's003000').map((s) => s.startMs)).toEqual([0, 1000]);
    expect(segmentsToDelete(segments, 0, { maxBytes: 1 }, 's003000').map((s) => s.startMs)).toEqual([0, 1000, 2000]);
  });

  it('deletes the oldest until reclaimBytes are freed (a disk short of its floor), never the open one', () => {
    expect(segmentsToDelete(segments, 0, { reclaimBytes: 150 }).map((s) => s.startMs)).toEqual([0, 1000]);
    expect(segmentsToDelete(segments, 0, { reclaimBytes: 1 }).map((s) => s.startMs)).toEqual([0]);
    expect(segmentsToDelete(segments, 0, { reclaimBytes: 1e9 }, 's003000').map((s) => s.startMs)).toEqual([0, 1000, 2000]);
  });

  it('leaves at most maxBytes (or just the open segment) and nothing older than keepMs (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 100_000 }), { minLength: 1, maxLength: 30 }),
        fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 30, maxLength: 30 }),
        fc.integer({ min: 1, max: 20_000 }),
        fc.integer({ min: 1, max: 50_000 }),
        (starts, sizes, maxBytes, keepMs) => {
          const all = starts.map((start, i) => seg(start, sizes[i]));
          const open = all.reduce((a, b) => (b.startMs > a.startMs ? b : a)).name;
          const now = 110_000;
          const doomed = new Set(segmentsToDelete(all, now, { maxBytes, keepMs }, open).map((s) => s.name));
          const kept = all.filter((s) => !doomed.has(s.name));
          expect(doomed.has(open)).toBe(false);
          const keptTotal = kept.reduce((sum, s) => sum + s.size, 0);
          expect(keptTotal <= maxBytes || kept.length === 1).toBe(true);
          for (const s of kept) if (s.name !== open) expect(now - s.endMs).toBeLessThanOrEqual(keepMs);
          // Size alone deletes a prefix of the closed segments, oldest first.
          const bySize = segmentsToDelete(all, now, { maxBytes }, open).map((x) => x.name);
          const closed = all
            .filter((x) => x.name !== open)
            .sort((x, y) => x.startMs - y.startMs)
            .map((x) => x.name);
          expect(bySize).toEqual(closed.slice(0, bySize.length));
        },
      ),
    );
  });
});
