import { classCounter, COUNTER_HEADER, counterWords } from '../shaders/layout.ts';
import type { Engine } from './engine.ts';
import { COPY_DST, MAP_MODE_READ, MAP_READ } from './usage.ts';

/** What the GPU's counters said at one moment (see COUNTER_HEADER in shaders/layout.ts). */
export interface CounterReading {
  skipped: number;
  executed: number;
  /** Per state class: applied steps, and the bits of the states some applied step wrote. */
  steps: number[];
  touched: number[];
}

/**
 * An optimizer's step counts, kept on the GPU as torch's capturable Adam keeps `step` on the
 * device: the count kernel advances a class's count only when the step was applied, so a step
 * skipped for non-finite gradients leaves no trace, and nothing on the host has to wait for it.
 *
 * The host still computes every step-dependent scalar in float64: the rows form a ring indexed
 * by step t, and before each step the host writes the rows of every t the GPU may be at. That
 * range is exact without skipping; with skipping it spans the steps not yet confirmed by an
 * asynchronous copy of the counters (started after each step the optimizer submits itself), so
 * it is one row in the usual loop that awaits anything now and then, and grows by one row per
 * step in a loop that never yields, however long, never dropping or misplacing a step.
 */
export class StepClock {
  counters: GPUBuffer;
  private readonly staging: GPUBuffer;
  private pending = false;
  private generation = 0;
  /** Steps recorded since the last reset. */
  recorded = 0;
  /** The latest confirmation: steps the GPU had executed, and how many of them it skipped. */
  private executed = 0;
  private skipped = 0;
  /** Each class's step count at the last reset (0 for a class added since). */
  private base: number[] = [];
  /**
   * Per class, when it joined (addClasses): steps recorded before it, and bounds on how many of
   * those were skipped (exact unless some were unconfirmed then). 0 for classes since the reset.
   */
  private joined: Array<{ at: number; skippedLo: number; skippedHi: number }> = [];

  constructor(
    private readonly engine: Engine,
    private readonly label: string,
    /** Whether steps may be skipped (otherwise the count after each step is known exactly). */
    readonly skipping: boolean,
    classes: number,
  ) {
    this.counters = engine.createBuffer(`${label}/counters`, counterWords(classes) * 4);
    this.staging = engine.createBuffer(`${label}/counters-readback`, 16, MAP_READ | COPY_DST);
    this.base = new Array<number>(classes).fill(0);
    this.joined = this.base.map(() => ({ at: 0, skippedLo: 0, skippedHi: 0 }));
  }

  /** Number of candidate steps the next step's rows must cover (the ring needs at least this). */
  get width(): number {
    if (!this.skipping) return 1;
    let width = 1;
    for (let c = 0; c < this.base.length; c++) {
      const [lo, hi] = this.window(c);
      width = Math.max(width, hi - lo + 1);
    }
    return width;
  }

  /**
   * The steps t class c may be at for the next step: [lo, hi]. Its count is its base plus the
   * steps applied since it joined: those recorded since, less those skipped since, where the
   * skipped ones are known up to the last confirmation (and at joining, up to skippedLo/Hi).
   */
  window(c: number): [number, number] {
    const base = this.base[c]!;
    const { at, skippedLo, skippedHi } = this.joined[c]!;
    const since = this.recorded - at;
    if (!this.skipping) return [base + since + 1, base + since + 1];
    const lo =
      this.executed >= at ? Math.max(0, this.executed - at - (this.skipped - skippedLo)) : 0;
    const hi = since - Math.max(0, this.skipped - skippedHi);
    return [base + lo + 1, base + hi + 1];
  }

  /**
   * Adds `count` classes at step 0 (a new param group) without touching the others' counts: a
   * larger counter buffer receives a GPU copy of the old one, queued after the steps submitted so
   * far and before the next, so nothing has to be read back.
   */
  addClasses(count: number): void {
    const classes = this.base.length + count;
    const size = counterWords(classes) * 4;
    if (size > this.counters.size) {
      const old = this.counters;
      this.counters = this.engine.createBuffer(`${this.label}/counters`, size);
      const encoder = this.engine.device.createCommandEncoder({ label: `${this.label}/counters` });
      encoder.copyBufferToBuffer(old, 0, this.counters, 0, old.size);
      this.engine.queue.submit([encoder.finish()]);
      this.engine.destroyWhen(
        this.engine.queue.onSubmittedWorkDone().then(() => true),
        [old],
      );
    } else {
      // Room already (counters are padded): the new classes' words must read 0 when first used.
      const from = counterWords(this.base.length) * 4;
      this.engine.queue.writeBuffer(this.counters, from, new Uint32Array((size - from) / 4));
    }
    const unconfirmed = this.recorded - this.executed;
    for (let k = 0; k < count; k++) {
      this.base.push(0);
      this.joined.push({
        at: this.recorded,
        skippedLo: this.skipped,
        skippedHi: this.skipping ? this.skipped + unconfirmed : 0,
      });
    }
  }

  /** Counts a step once it is recorded (into our own or the caller's encoder). */
  record(): void {
    this.recorded++;
  }

  /** Records a copy of [found, skipped, executed] after this step, unless one is in flight. */
  encodeReadback(encoder: GPUCommandEncoder): boolean {
    if (!this.skipping || this.pending) return false;
    encoder.copyBufferToBuffer(this.counters, 0, this.staging, 0, 16);
    return (this.pending = true);
  }

  /** Starts mapping the copy made by encodeReadback (call after submitting it). */
  startReadback(): void {
    const generation = this.generation;
    this.staging.mapAsync(MAP_MODE_READ).then(
      () => {
        const words = new Uint32Array(this.staging.getMappedRange().slice(0));
        this.staging.unmap();
        this.pending = false;
        if (generation === this.generation)
          this.confirm(
            words[COUNTER_HEADER.offset.executed]!,
            words[COUNTER_HEADER.offset.skipped]!,
          );
      },
      () => (this.pending = false), // destroyed or device lost: the next read says so
    );
  }

  private confirm(executed: number, skipped: number): void {
    if (executed < this.executed) return; // an older copy landing late
    this.executed = executed;
    this.skipped = skipped;
  }

  /** Reads every counter once the work submitted so far has run. */
  async read(): Promise<CounterReading> {
    const generation = this.generation;
    const words = new Uint32Array(
      (await this.engine.readBuffer(this.counters, this.counters.size / 4)).buffer,
    );
    const classes = this.base.length;
    const reading: CounterReading = {
      skipped: words[COUNTER_HEADER.offset.skipped]!,
      executed: words[COUNTER_HEADER.offset.executed]!,
      steps: Array.from({ length: classes }, (_, c) => words[classCounter(c, 'step')]!),
      touched: Array.from({ length: classes }, (_, c) => words[classCounter(c, 'touched')]!),
    };
    if (generation === this.generation) this.confirm(reading.executed, reading.skipped);
    return reading;
  }

  /** Starts counting afresh with these per-class step counts and touched bits (a loaded dict). */
  reset(steps: number[], touched: number[]): void {
    this.generation++;
    this.recorded = this.executed = this.skipped = 0;
    this.base = steps.slice();
    this.joined = steps.map(() => ({ at: 0, skippedLo: 0, skippedHi: 0 }));
    const words = new Uint32Array(counterWords(steps.length));
    steps.forEach((s, c) => {
      words[classCounter(c, 'step')] = s;
      words[classCounter(c, 'touched')] = touched[c]!;
    });
    if (this.counters.size < words.byteLength) {
      this.counters.destroy();
      this.counters = this.engine.createBuffer(`${this.label}/counters`, words.byteLength);
    }
    this.engine.queue.writeBuffer(this.counters, 0, words);
  }

  destroy(): void {
    this.counters.destroy();
    this.staging.destroy();
  }
}
