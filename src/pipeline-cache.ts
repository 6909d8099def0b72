/** Reports a shader compilation error with the label of the kernel. */
export type CompilationReporter = (label: string, message: string) => void;

/** An engine's handle on its device's pipelines: compile errors are reported to that engine. */
export interface PipelineView {
  /** The pipeline for `code`, compiled on first use on this device and labelled `label`. */
  get(label: string, code: string): GPUComputePipeline;
  /** Pipelines compiled on this device so far. */
  readonly size: number;
}

const caches = new WeakMap<GPUDevice, PipelineCache>();

/**
 * Compiled compute pipelines, one per distinct shader text, shared by every engine on a device
 * (an engine per shared device would otherwise compile every kernel again).
 */
export class PipelineCache {
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  private constructor(private readonly device: GPUDevice) {}

  /** The cache of `device`. */
  static of(device: GPUDevice): PipelineCache {
    let cache = caches.get(device);
    if (!cache) caches.set(device, (cache = new PipelineCache(device)));
    return cache;
  }

  /** A view whose compilations report errors to `report`. */
  view(report: CompilationReporter): PipelineView {
    const cache = this.pipelines;
    return {
      get: (label, code) => this.get(label, code, report),
      get size() {
        return cache.size;
      },
    };
  }

  private get(label: string, code: string, report: CompilationReporter): GPUComputePipeline {
    let pipeline = this.pipelines.get(code);
    if (!pipeline) {
      const module = this.device.createShaderModule({ label, code });
      void module.getCompilationInfo().then((info) => {
        const errors = info.messages.filter((m) => m.type === 'error');
        if (errors.length > 0) {
          report(
            label,
            errors.map((m) => `line ${m.lineNum}:${m.linePos} ${m.message}`).join('\n'),
          );
        }
      });
      pipeline = this.device.createComputePipeline({
        label,
        layout: 'auto',
        compute: { module, entryPoint: 'main' },
      });
      this.pipelines.set(code, pipeline);
    }
    return pipeline;
  }
}
