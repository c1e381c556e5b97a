import { Duration } from 'aws-cdk-lib';
import { Dashboard, GraphWidget, MathExpression, Stats, TextWidget, type IMetric, type IWidget } from 'aws-cdk-lib/aws-cloudwatch';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { METRIC_NAMES, METRICS_NAMESPACE } from '@commandbus/core';
import type { Construct } from 'constructs';

export interface DashboardDomain {
  name: string;
  commands: IQueue;
  tsq: IQueue;
}

const PERIOD = Duration.minutes(5);

/** A CloudWatch dynamic label: each line of a SEARCH named by its command type. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudWatch's own placeholder syntax, not a JavaScript template
export const COMMAND_TYPE_LABEL = "${PROP('Dim.commandType')}";

/**
 * The worker's EMF metrics of one domain, every command type: a SEARCH over the `domain` and
 * `commandType` dimensions (one metric per type; a sum needs no extra dimension set, which would be
 * billed as custom metrics of its own).
 */
function search(metricName: string, domain: string, stat: string): string {
  return `SEARCH('{${METRICS_NAMESPACE},commandType,domain} MetricName="${metricName}" domain="${domain}"', '${stat}', ${PERIOD.toSeconds()})`;
}

function sumOverTypes(metricName: string, domain: string, label: string): IMetric {
  return new MathExpression({ expression: `SUM(${search(metricName, domain, 'Sum')})`, label, period: PERIOD, usingMetrics: {} });
}

/**
 * One row per domain: commands sent (the commands queue's NumberOfMessagesSent: sends, operator
 * retries and redrives), completed, failed attempts and parked (the worker's metrics, every command
 * type); send→completion latency p50 and p99 per command type; the TSQ's depth and the age of its
 * oldest message (kept true by the TSQ sweeper).
 */
export function createCommandBusDashboard(scope: Construct, id: string, options: { dashboardName?: string; namespace: string; domains: DashboardDomain[] }) {
  const dashboard = new Dashboard(scope, id, {
    ...(options.dashboardName === undefined ? {} : { dashboardName: options.dashboardName }),
    defaultInterval: Duration.hours(3),
  });
  dashboard.addWidgets(
    new TextWidget({
      markdown: `# commandbus: ${options.namespace}\nPer domain: commands in and out, send→completion latency, and what waits for an operator in the troubleshooting queue (TSQ).`,
      width: 24,
      height: 2,
    }),
  );
  for (const domain of options.domains) {
    const row: IWidget[] = [
      new GraphWidget({
        title: `${domain.name}: commands`,
        width: 8,
        left: [
          domain.commands.metricNumberOfMessagesSent({ period: PERIOD, statistic: Stats.SUM, label: 'sent' }),
          sumOverTypes(METRIC_NAMES.completed, domain.name, 'completed'),
          sumOverTypes(METRIC_NAMES.failed, domain.name, 'failed attempts'),
          sumOverTypes(METRIC_NAMES.parked, domain.name, 'parked'),
        ],
      }),
      new GraphWidget({
        title: `${domain.name}: send→completion latency (ms)`,
        width: 8,
        left: [
          new MathExpression({
            expression: search(METRIC_NAMES.latency, domain.name, 'p50'),
            label: `p50 ${COMMAND_TYPE_LABEL}`,
            period: PERIOD,
            usingMetrics: {},
          }),
          new MathExpression({
            expression: search(METRIC_NAMES.latency, domain.name, 'p99'),
            label: `p99 ${COMMAND_TYPE_LABEL}`,
            period: PERIOD,
            usingMetrics: {},
          }),
        ],
      }),
      new GraphWidget({
        title: `${domain.name}: troubleshooting queue`,
        width: 8,
        left: [domain.tsq.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: Stats.MAXIMUM, label: 'parked (depth)' })],
        right: [domain.tsq.metricApproximateAgeOfOldestMessage({ period: PERIOD, statistic: Stats.MAXIMUM, label: 'oldest (s)' })],
      }),
    ];
    dashboard.addWidgets(...row);
  }
  return dashboard;
}
