import { Registry } from 'prom-client';
import type { HealthDetails, HealthReports } from '../health';
import type { StreamsDetails } from '../streams';

/**
 * What `/healthz` and `/metrics` report, gathered from the parts: each adds its metrics to `metrics`, its viewer
 * count, the problem that makes health `degraded` (recording failing), and its own `/healthz` fields. The parts
 * register in any order; the monitoring plugin reads it all at request time.
 *
 * @example
 * reports.addViewerCount(() => viewers.viewerCount);
 * reports.addProblem(() => recorder.problem);
 */
export class StatusReports implements HealthReports {
  /** The Prometheus registry `/metrics` serves. */
  readonly metrics = new Registry();
  private readonly counts: (() => number)[] = [];
  private readonly problems: (() => string | undefined)[] = [];
  private readonly details: (() => HealthDetails)[] = [];
  private readonly streams: (() => StreamsDetails)[] = [];

  addViewerCount(count: () => number): void {
    this.counts.push(count);
  }

  /** A part that can fail while viewing works; the first part's problem (in registration order) is the reason. */
  addProblem(problem: () => string | undefined): void {
    this.problems.push(problem);
  }

  addHealthDetails(details: () => HealthDetails): void {
    this.details.push(details);
  }

  /** What a part adds to `GET /streams` (the WebRTC endpoint, or why there is none). */
  addStreamsDetails(details: () => StreamsDetails): void {
    this.streams.push(details);
  }

  streamsDetails(): StreamsDetails {
    return Object.assign({}, ...this.streams.map((details) => details())) as StreamsDetails;
  }

  /** Viewers now, over every part that has them. */
  viewers(): number {
    return this.counts.reduce((sum, count) => sum + count(), 0);
  }

  problem(): string | undefined {
    for (const problem of this.problems) {
      const found = problem();
      if (found !== undefined) return found;
    }
    return undefined;
  }

  healthDetails(): HealthDetails {
    return Object.assign({}, ...this.details.map((details) => details())) as HealthDetails;
  }
}
