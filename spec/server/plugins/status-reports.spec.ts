import { StatusReports } from '../../../src/server/plugins/status-reports';

describe('StatusReports', () => {
  it('reports nothing before a part adds to it', async () => {
    const reports = new StatusReports();
    expect(reports.viewers()).toBe(0);
    expect(reports.problem()).toBeUndefined();
    expect(reports.healthDetails()).toEqual({});
    expect(await reports.metrics.metrics()).toBe('\n');
  });

  it('sums viewers over the parts, asked each time', () => {
    const reports = new StatusReports();
    let ws = 2;
    reports.addViewerCount(() => ws);
    reports.addViewerCount(() => 3);
    expect(reports.viewers()).toBe(5);
    ws = 0;
    expect(reports.viewers()).toBe(3);
  });

  it('gives the first part’s problem, in the order they were added', () => {
    const reports = new StatusReports();
    const recording: { problem?: string } = {};
    reports.addProblem(() => recording.problem);
    reports.addProblem(() => 'publishing to rtmp://h/*** failed');
    expect(reports.problem()).toBe('publishing to rtmp://h/*** failed');
    recording.problem = 'recording stopped: disk full';
    expect(reports.problem()).toBe('recording stopped: disk full');
  });

  it('merges the parts’ health details', () => {
    const reports = new StatusReports();
    const publish = [{ target: 'rtmp://h/***', state: 'retrying' as const, bytes: 0, skipped: 0, restarts: 1, failures: 1 }];
    reports.addHealthDetails(() => ({ publish }));
    expect(reports.healthDetails()).toEqual({ publish });
  });
});
