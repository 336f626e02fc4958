/** A recorded segment as retention and `/recordings` see it. */
export interface SegmentInfo {
  readonly name: string;
  /** Capture time of its first picture, ms since the epoch (from its name). */
  readonly startMs: number;
  /** When its last picture was captured (or, for a segment from an earlier run, written), ms since the epoch. */
  readonly endMs: number;
  /** Bytes on disk. */
  readonly size: number;
}

export interface RetentionPolicy {
  /** Delete segments whose last picture is older than this. Undefined: keep any age. */
  readonly keepMs?: number;
  /** Delete the oldest segments while all of them together take more than this. Undefined: any size. */
  readonly maxBytes?: number;
  /** Delete the oldest segments until they free at least this many bytes (the disk's free space is short by it). */
  readonly reclaimBytes?: number;
}

/**
 * Which segments to delete, oldest first (pure: `now` is given). Age goes by a segment's end, so a segment is kept
 * while any of its footage is younger than `keepMs`. Size counts every segment, the open one included, but the
 * open one (`open`, the segment being written) is never deleted: with a limit smaller than one segment, what is
 * left is the segment being written. `reclaimBytes` deletes the oldest until that much is freed (a disk short of
 * its free-space floor).
 * @example
 * segmentsToDelete(segments, Date.now(), { keepMs: 7 * 86_400_000, maxBytes: 8e9 }, openName);
 */
export function segmentsToDelete(segments: readonly SegmentInfo[], now: number, policy: RetentionPolicy, open?: string): SegmentInfo[] {
  const oldestFirst = [...segments].sort((a, b) => a.startMs - b.startMs || (a.name < b.name ? -1 : 1));
  let total = oldestFirst.reduce((sum, s) => sum + s.size, 0);
  let freed = 0;
  const doomed: SegmentInfo[] = [];
  for (const segment of oldestFirst) {
    if (segment.name === open) continue;
    const tooOld = policy.keepMs !== undefined && now - segment.endMs > policy.keepMs;
    const tooBig = policy.maxBytes !== undefined && total > policy.maxBytes;
    const diskShort = policy.reclaimBytes !== undefined && freed < policy.reclaimBytes;
    if (!tooOld && !tooBig && !diskShort) continue;
    doomed.push(segment);
    total -= segment.size;
    freed += segment.size;
  }
  return doomed;
}
