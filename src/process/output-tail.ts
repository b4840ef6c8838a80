/** How much of a command's output certfleet keeps: the last 64 KiB, where the error usually is. */
export const OUTPUT_LIMIT_BYTES = 64 * 1024;

/**
 * The last `limit` bytes of a process's combined stdout and stderr, in arrival order. Memory
 * stays bounded however much a command prints.
 */
export class OutputTail {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private dropped = 0;

  constructor(private readonly limit = OUTPUT_LIMIT_BYTES) {}

  /** Appends a chunk (bound, so it can be passed to a stream's `data` event directly). */
  readonly push = (chunk: Buffer | string): void => {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.chunks.push(buffer);
    this.size += buffer.length;
    while (this.size > this.limit) {
      const first = this.chunks[0]!;
      const excess = this.size - this.limit;
      if (first.length <= excess) {
        this.chunks.shift();
        this.size -= first.length;
        this.dropped += first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.size -= excess;
        this.dropped += excess;
      }
    }
  };

  /** The kept output as UTF-8, preceded by a note when earlier bytes were dropped. */
  text(): string {
    const kept = Buffer.concat(this.chunks).toString('utf8');
    return this.dropped > 0 ? `[${this.dropped} earlier bytes of output not kept]\n${kept}` : kept;
  }
}
