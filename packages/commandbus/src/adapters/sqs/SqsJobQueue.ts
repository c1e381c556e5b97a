import { GetQueueUrlCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { JobQueue, JobWork } from '../../ports/JobStore.ts';

/** The jobs queue (`<namespace>-jobs`): one message = "work on this job for a while". */
export class SqsJobQueue implements JobQueue {
  private url: Promise<string> | undefined;

  private readonly sqs: SQSClient;
  private readonly queueName: string;

  constructor(sqs: SQSClient, queueName: string, queueUrl?: string) {
    this.sqs = sqs;
    this.queueName = queueName;
    if (queueUrl) this.url = Promise.resolve(queueUrl);
  }

  async enqueue(work: JobWork, delaySeconds = 0): Promise<void> {
    this.url ??= this.sqs.send(new GetQueueUrlCommand({ QueueName: this.queueName })).then((response) => response.QueueUrl!);
    const QueueUrl = await this.url.catch((error: unknown) => {
      this.url = undefined;
      throw error;
    });
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl,
        MessageBody: JSON.stringify({ domain: work.domain, jobId: work.jobId }),
        ...(delaySeconds > 0 ? { DelaySeconds: Math.min(900, Math.ceil(delaySeconds)) } : {}),
      }),
    );
  }
}
