/** Compiled compute pipelines, one per distinct shader text (each optimizer variant compiles once). */
export class PipelineCache {
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  constructor(
    private readonly device: GPUDevice,
    private readonly onCompilationError: (label: string, message: string) => void,
  ) {}

  get size(): number {
    return this.pipelines.size;
  }

  /** The pipeline for `code`, compiled on first use and labelled `label`. */
  get(label: string, code: string): GPUComputePipeline {
    let pipeline = this.pipelines.get(code);
    if (!pipeline) {
      const module = this.device.createShaderModule({ label, code });
      void module.getCompilationInfo().then((info) => {
        const errors = info.messages.filter((m) => m.type === 'error');
        if (errors.length > 0) {
          this.onCompilationError(
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
