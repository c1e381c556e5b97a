/**
 * redrive: SQS's native message move from a domain's TSQ queue back to its commands queue (what the
 * SQS console's "Start DLQ redrive" does). The worker treats a redriven message as an operator retry
 * (audited OPERATOR_RETRY by `sqs-redrive`); a stale copy is dropped. The API does not offer it: the
 * CLI calls SQS itself — the embedded SQS of the local runtime, or AWS with your credentials.
 */
import { GetQueueUrlCommand, GetQueueAttributesCommand, ListMessageMoveTasksCommand, SQSClient, StartMessageMoveTaskCommand } from '@aws-sdk/client-sqs';
import type { Command as Program } from 'commander';
import { resourceNames } from '@commandbus/core/resources';
import { positiveNumber } from '../input.ts';
import { CliError, ExitCode } from '../output.ts';
import type { Context } from '../context.ts';
import type { QueueAccess } from '../target.ts';

export function registerRedrive(program: Program, context: Context): void {
  program
    .command('redrive')
    .description("move a domain's TSQ queue messages back to its commands queue (SQS's native redrive), or show its tasks")
    .argument('<domain>')
    .option('--rate <n>', 'messages per second (SQS: up to 500; default: as fast as SQS goes)', positiveNumber)
    .option('--status', 'only show the redrive tasks of this TSQ queue (the most recent first)')
    .action(async (domain: string, options: { rate?: number; status?: boolean }) => {
      const { queues, description } = await context.target();
      if (!queues) throw new CliError(`redrive needs SQS access, which ${description} does not give: use the local runtime or --stack`, ExitCode.Usage);
      const sqs = new SQSClient({
        region: queues.region,
        ...(queues.endpoint ? { endpoint: queues.endpoint } : {}),
        ...(queues.credentials ? { credentials: queues.credentials } : {}),
      });
      try {
        const { tsq, commands } = await queueArns(sqs, queues, domain);
        const out = context.output();
        if (!options.status) {
          const started = await sqs.send(
            new StartMessageMoveTaskCommand({
              SourceArn: tsq,
              DestinationArn: commands,
              ...(options.rate === undefined ? {} : { MaxNumberOfMessagesPerSecond: Math.round(options.rate) }),
            }),
          );
          if (out.json) out.data({ taskHandle: started.TaskHandle, sourceArn: tsq, destinationArn: commands });
          else out.line(`redrive started: ${tsq} → ${commands}\n  commandbus redrive ${domain} --status   shows how far it got`);
          return;
        }
        const { Results = [] } = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: tsq, MaxResults: 10 }));
        if (out.json) return out.data(Results);
        out.table(
          ['STARTED', 'STATUS', 'MOVED', 'TO MOVE', 'FAILURE'],
          Results.map((task) => [
            task.StartedTimestamp ? new Date(task.StartedTimestamp).toISOString() : '',
            task.Status,
            task.ApproximateNumberOfMessagesMoved,
            task.ApproximateNumberOfMessagesToMove,
            task.FailureReason,
          ]),
        );
      } finally {
        sqs.destroy();
      }
    });
}

/** From the stack's outputs, else by name (the namespace's naming rule) through GetQueueUrl. */
async function queueArns(sqs: SQSClient, queues: QueueAccess, domain: string): Promise<{ tsq: string; commands: string }> {
  const known = queues.queueArns?.[domain];
  if (known) return known;
  const names = resourceNames(queues.namespace);
  const arnOf = async (queueName: string) => {
    try {
      const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
      const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
      return Attributes!.QueueArn!;
    } catch (error) {
      if ((error as Error).name === 'QueueDoesNotExist' || (error as Error).name === 'AWS.SimpleQueueService.NonExistentQueue') {
        throw new CliError(`domain ${domain} has no queue ${queueName}`, ExitCode.NotFound);
      }
      throw error;
    }
  };
  return { tsq: await arnOf(names.tsqQueue(domain)), commands: await arnOf(names.commandsQueue(domain)) };
}
