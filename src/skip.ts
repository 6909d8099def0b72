import { SKIP_CANDIDATES } from '../shaders/common.wgsl.ts';
import type { Engine } from './engine.ts';

/**
 * Host side of skipping steps with non-finite gradients, without waiting on the GPU.
 *
 * The GPU counts skipped steps itself (flags = [found, skipped, dropped, _], shaders/nonfinite).
 * Step-dependent scalars stay host-side float64, so each step uploads SKIP_CANDIDATES row sets:
 * set c assumes c more skips than the host has confirmed, and the kernel picks the set that
 * matches its own count. After each step the count is copied back asynchronously; when it lands
 * the host drops the confirmed skips from its optimistic history (see Optimizer.step). A step
 * that finds more than SKIP_CANDIDATES - 1 unconfirmed skips is dropped and reported: await
 * `skippedSteps()` now and then (any await lets confirmations land).
 */
export class SkipTracker {
  readonly flags: GPUBuffer;
  private readonly staging: GPUBuffer;
  private pending = false;
  private generation = 0;
  /** Skips the host has accounted for (its candidate sets are relative to this). */
  confirmed = 0;
  private latest: { skipped: number; dropped: number } | undefined;
  private dropped = 0;

  constructor(
    private readonly engine: Engine,
    private readonly label: string,
  ) {
    this.flags = engine.createBuffer(`${label}/flags`, 16);
    this.staging = engine.createBuffer(
      `${label}/flags-readback`,
      16,
      GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    );
  }

  /** Records a copy of the flags after this step's kernels, unless one is still in flight. */
  encodeReadback(encoder: GPUCommandEncoder): boolean {
    if (this.pending) return false;
    encoder.copyBufferToBuffer(this.flags, 0, this.staging, 0, 16);
    return (this.pending = true);
  }

  /** Starts mapping the copy made by encodeReadback (call after submitting it). */
  startReadback(): void {
    const generation = this.generation;
    void this.staging.mapAsync(GPUMapMode.READ).then(
      () => {
        const [, skipped, dropped] = new Uint32Array(this.staging.getMappedRange().slice(0));
        this.staging.unmap();
        this.pending = false;
        if (generation === this.generation) this.latest = { skipped: skipped!, dropped: dropped! };
      },
      () => (this.pending = false),
    );
  }

  /**
   * Skips confirmed since the last call (the host shifts its history by this much); throws when
   * steps were dropped for lack of confirmations.
   */
  takeShift(): number {
    const latest = this.latest;
    if (!latest) return 0;
    this.latest = undefined;
    const shift = latest.skipped - this.confirmed;
    this.confirmed = latest.skipped;
    if (latest.dropped > this.dropped) {
      const n = latest.dropped - this.dropped;
      this.dropped = latest.dropped;
      throw new Error(
        `${this.label}: ${n} step(s) with finite gradients were dropped because ${SKIP_CANDIDATES} skipped steps were still unconfirmed; await skippedSteps() at least every ${SKIP_CANDIDATES} steps`,
      );
    }
    return Math.max(0, shift);
  }

  /** Reads the GPU's count now (waits for submitted work). */
  async read(): Promise<number> {
    const generation = this.generation;
    const [, skipped, dropped] = new Uint32Array(
      (await this.engine.readRuns([{ buffer: this.flags, offset: 0, length: 4, start: 0 }], 4))
        .buffer,
    );
    if (generation === this.generation) this.latest = { skipped: skipped!, dropped: dropped! };
    return skipped!;
  }

  /** Restarts counting from zero (after loading a checkpoint). */
  reset(): void {
    this.generation++;
    this.latest = undefined;
    this.confirmed = 0;
    this.dropped = 0;
    this.engine.queue.writeBuffer(this.flags, 0, new Uint32Array(4));
  }

  destroy(): void {
    this.flags.destroy();
    this.staging.destroy();
  }
}
