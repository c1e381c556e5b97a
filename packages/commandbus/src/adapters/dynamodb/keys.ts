import { INDEX_SHARDS } from '../../resources.ts';

/**
 * Index keys are spread over INDEX_SHARDS partitions per domain so one busy domain cannot make a hot
 * partition; readers query every shard and merge (see ShardedIndexReader). The count is the domain's
 * write count (see domain/shards.ts); 8 when the domain has no settings.
 */
export function shardOf(commandId: string, shards: number = INDEX_SHARDS): number {
  // FNV-1a: stable across processes and languages, cheap, well spread for UUIDs.
  let hash = 0x811c9dc5;
  for (let i = 0; i < commandId.length; i++) {
    hash ^= commandId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

export const shardKey = (domain: string, shard: number) => `${domain}#${shard}`;
export const timeSortKey = (timestamp: string, commandId: string) => `${timestamp}#${commandId}`;
