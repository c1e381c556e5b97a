import { readShardsOf, writeShardsAt, type StoredShardSettings } from '../../domain/shards.ts';

interface Entry {
  stored: StoredShardSettings | undefined;
  loadedAt: number;
  refreshing?: Promise<StoredShardSettings | undefined>;
}

/**
 * A process's copy of each domain's shard settings (one read per domain per `ttlMs`).
 *
 * Writers may use a copy of any age: every count a copy names was, when it was set, no more than the
 * read count, which only grows; so a stale writer only switches late. A copy past its age is refreshed
 * in the background for them, and only the very first write of a domain in a process waits for a read.
 * Readers wait for a copy younger than `ttlMs`: writers switch to a raised count only after a delay
 * longer than that (SHARD_CHANGE_DELAY_MS), so a reader knows every shard a writer may use.
 */
export class ShardSettingsCache {
  private readonly entries = new Map<string, Entry>();
  private readonly load: (domain: string) => Promise<StoredShardSettings | undefined>;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(load: (domain: string) => Promise<StoredShardSettings | undefined>, ttlMs: number, now: () => number = Date.now) {
    this.load = load;
    this.ttlMs = ttlMs;
    this.now = now;
  }

  /** The count a write at this moment uses. */
  async writeShards(domain: string): Promise<number> {
    const entry = this.entries.get(domain);
    if (!entry || entry.loadedAt === Number.NEGATIVE_INFINITY) return writeShardsAt(await this.refresh(domain), this.now());
    if (this.now() - entry.loadedAt >= this.ttlMs) this.refresh(domain).catch(() => {}); // keep the copy; try again next time
    return writeShardsAt(entry.stored, this.now());
  }

  /** The count a read queries: from a copy younger than the TTL. */
  async readShards(domain: string): Promise<number> {
    return readShardsOf(await this.fresh(domain));
  }

  async fresh(domain: string): Promise<StoredShardSettings | undefined> {
    const entry = this.entries.get(domain);
    if (entry && this.now() - entry.loadedAt < this.ttlMs) return entry.stored;
    return this.refresh(domain);
  }

  /** What this process just wrote: its own readers and writers need not wait for the TTL. */
  remember(domain: string, stored: StoredShardSettings): void {
    this.entries.set(domain, { stored, loadedAt: this.now() });
  }

  private refresh(domain: string): Promise<StoredShardSettings | undefined> {
    const entry = this.entries.get(domain);
    if (entry?.refreshing !== undefined) return entry.refreshing;
    const startedAt = this.now();
    const refreshing = this.load(domain).then(
      (stored) => {
        const current = this.entries.get(domain);
        // A copy this process wrote meanwhile (remember) replaced the entry: it is newer than what the read found.
        if (current !== undefined && current.refreshing !== refreshing) return current.stored;
        this.entries.set(domain, { stored, loadedAt: startedAt });
        return stored;
      },
      (error: unknown) => {
        const current = this.entries.get(domain);
        if (current?.refreshing === refreshing) delete current.refreshing;
        throw error;
      },
    );
    if (entry) entry.refreshing = refreshing;
    else this.entries.set(domain, { stored: undefined, loadedAt: Number.NEGATIVE_INFINITY, refreshing });
    return refreshing;
  }
}
