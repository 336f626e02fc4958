/** `0.4 s`, `42 s`, `3 min 5 s`, `1 min`, `2 h 10 min`: how long a viewer watched, as a person reads it. */
export function watchedFor(ms: number): string {
  const seconds = Math.max(0, ms) / 1000;
  if (seconds < 10) return `${Number(seconds.toFixed(1))} s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const [big, small] =
    s < 3600 ? [`${Math.floor(s / 60)} min`, `${s % 60} s`] : [`${Math.floor(s / 3600)} h`, `${Math.floor((s % 3600) / 60)} min`];
  return small.startsWith('0 ') ? big : `${big} ${small}`;
}
