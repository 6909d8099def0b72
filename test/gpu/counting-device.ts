/**
 * A real GPUDevice whose buffers and 'uncapturederror' listeners are counted, for leak tests
 * (after greggman/webgpu-utils: every test destroys what it made). Runs in the page.
 */
export interface CountingDevice {
  device: GPUDevice;
  /** Buffers created and not yet destroyed, by label. */
  liveBuffers(): string[];
  listeners(): number;
  /** Makes createBuffer fail (an invalid buffer and a validation error) for labels matching `re`. */
  failBuffers(re: RegExp | undefined): void;
}

export async function countingDevice(): Promise<CountingDevice> {
  const adapter = await navigator.gpu.requestAdapter();
  const device = await adapter!.requestDevice({ label: 'counting device' });
  const live = new Map<GPUBuffer, string>();
  let listeners = 0;
  let failing: RegExp | undefined;
  const create = device.createBuffer.bind(device);
  device.createBuffer = (d: GPUBufferDescriptor) => {
    const bad = failing?.test(d.label ?? '') ?? false;
    const b = create(bad ? { ...d, size: 2 ** 52 } : d);
    live.set(b, d.label ?? '');
    const destroy = b.destroy.bind(b);
    b.destroy = () => {
      live.delete(b);
      destroy();
    };
    return b;
  };
  const add = device.addEventListener.bind(device);
  const remove = device.removeEventListener.bind(device);
  device.addEventListener = ((type: string, l: EventListener, o?: unknown) => {
    if (type === 'uncapturederror') listeners++;
    add(type, l, o as AddEventListenerOptions);
  }) as typeof device.addEventListener;
  device.removeEventListener = ((type: string, l: EventListener, o?: unknown) => {
    if (type === 'uncapturederror') listeners--;
    remove(type, l, o as EventListenerOptions);
  }) as typeof device.removeEventListener;
  return {
    device,
    liveBuffers: () => [...live.values()],
    listeners: () => listeners,
    failBuffers: (re) => (failing = re),
  };
}
