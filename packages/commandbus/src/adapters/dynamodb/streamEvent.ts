/**
 * DynamoDB stream records as Lambda hands them over (DynamoDB JSON images), turned into the
 * domain's ChangeRecords. The local poller hands over the same shape, so one handler serves both.
 */
import type { ChangeRecord } from '../../domain/stats.ts';

export interface StreamRecord {
  eventName?: string;
  dynamodb?: {
    SequenceNumber?: string;
    NewImage?: Record<string, unknown>;
    OldImage?: Record<string, unknown>;
    ApproximateCreationDateTime?: number | Date;
  };
}

/** A batch of one shard's records, in sequence order (Lambda's event with a tumbling window carries `shardId`). */
export interface StreamBatchEvent {
  Records: StreamRecord[];
  shardId?: string;
  eventSourceARN?: string;
}

type Value = { S?: string; N?: string; L?: Value[]; M?: Record<string, Value> } | undefined;

/**
 * What the aggregation reads of an image: the keys, `status`, `createdAt` and each event's type and
 * time. Read by hand rather than unmarshalled whole: the payload and results are not needed, and a
 * client may hand empty maps over as `{}` (which `unmarshall` refuses).
 */
function imageOf(raw: Record<string, unknown>): Record<string, unknown> {
  const image = raw as Record<string, Value>;
  const out: Record<string, unknown> = {};
  for (const name of ['pk', 'sk', 'status', 'createdAt', 'updatedAt']) {
    const value = image[name]?.S;
    if (value !== undefined) out[name] = value;
  }
  const events = image.events?.L;
  if (events) out.events = events.map((event) => ({ e: event?.M?.e?.S, t: event?.M?.t?.S }));
  return out;
}

export function toChangeRecords(records: readonly StreamRecord[]): ChangeRecord[] {
  const out: ChangeRecord[] = [];
  for (const record of records) {
    const name = record.eventName;
    const sequenceNumber = record.dynamodb?.SequenceNumber;
    if ((name !== 'INSERT' && name !== 'MODIFY' && name !== 'REMOVE') || sequenceNumber === undefined) continue;
    const { NewImage, OldImage } = record.dynamodb ?? {};
    out.push({
      sequenceNumber,
      eventName: name,
      ...(OldImage ? { oldImage: imageOf(OldImage) } : {}),
      ...(NewImage ? { newImage: imageOf(NewImage) } : {}),
    });
  }
  return out;
}
