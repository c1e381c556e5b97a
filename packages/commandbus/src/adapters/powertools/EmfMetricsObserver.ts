import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRIC_NAMES, type CommandObserver } from '../../ports/CommandObserver.ts';

/** The CloudWatch namespace of the bus's metrics. */
export const METRICS_NAMESPACE = 'commandbus';

/**
 * Metrics in CloudWatch's Embedded Metric Format (Powertools Metrics), one JSON line per domain and
 * command type on stdout at each flush: in Lambda, CloudWatch Logs turns them into metrics (no
 * PutMetricData request); elsewhere they are printed. Dimensions: `domain` and `commandType`; units
 * Count and Milliseconds. Values are buffered until `flush()` (up to 100 per metric, then flushed by
 * Powertools itself).
 *
 * Powertools turns itself off with POWERTOOLS_METRICS_DISABLED=true, or POWERTOOLS_DEV=true unless
 * POWERTOOLS_METRICS_DISABLED says otherwise.
 */
export class EmfMetricsObserver implements CommandObserver {
  private readonly namespace: string;
  private readonly groups = new Map<string, Metrics>();

  constructor(options: { namespace?: string } = {}) {
    this.namespace = options.namespace ?? METRICS_NAMESPACE;
  }

  commandCompleted(event: { domain: string; commandType: string; durationMs: number; latencyMs: number }): void {
    const metrics = this.metricsFor(event);
    metrics.addMetric(METRIC_NAMES.completed, MetricUnit.Count, 1);
    metrics.addMetric(METRIC_NAMES.duration, MetricUnit.Milliseconds, Math.round(event.durationMs));
    metrics.addMetric(METRIC_NAMES.latency, MetricUnit.Milliseconds, Math.round(event.latencyMs));
  }

  commandFailed(event: { domain: string; commandType: string; durationMs: number }): void {
    const metrics = this.metricsFor(event);
    metrics.addMetric(METRIC_NAMES.failed, MetricUnit.Count, 1);
    metrics.addMetric(METRIC_NAMES.duration, MetricUnit.Milliseconds, Math.round(event.durationMs));
  }

  commandRetried(event: { domain: string; commandType: string }): void {
    this.metricsFor(event).addMetric(METRIC_NAMES.retried, MetricUnit.Count, 1);
  }

  commandParked(event: { domain: string; commandType: string }): void {
    this.metricsFor(event).addMetric(METRIC_NAMES.parked, MetricUnit.Count, 1);
  }

  /** Prints one EMF line per domain and command type that has values since the last flush. */
  flush(): void {
    for (const metrics of this.groups.values()) {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  }

  private metricsFor({ domain, commandType }: { domain: string; commandType: string }): Metrics {
    const key = JSON.stringify([domain, commandType]);
    let metrics = this.groups.get(key);
    if (!metrics) {
      metrics = new Metrics({ namespace: this.namespace, serviceName: METRICS_NAMESPACE });
      // Exactly the two dimensions, wherever it runs (Powertools adds `service` by default).
      metrics.clearDefaultDimensions();
      metrics.setDefaultDimensions({ domain, commandType });
      this.groups.set(key, metrics);
    }
    return metrics;
  }
}
