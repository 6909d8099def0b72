import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

/**
 * Where Dawn (the `webgpu` npm package) finds a GPU when Node runs the engine: the environment a
 * Node process needs, decided before it starts (the dynamic loader reads LD_LIBRARY_PATH once,
 * at process start, so the test workers and `npm run bench -- --runtime node` get it at spawn).
 *
 * On Linux Dawn uses Vulkan: it loads the Vulkan loader (libvulkan.so.1), which loads a driver
 * (an ICD, named by a JSON manifest). A machine with a GPU driver, or with Mesa's lavapipe
 * (`mesa-vulkan-drivers`), has both installed and needs nothing. A CPU-only machine with only
 * Chromium has neither system-wide, but Debian's Chromium ships both for its own use: SwiftShader
 * (`vk_swiftshader_icd.json`, a CPU Vulkan driver) and a Vulkan loader, in /usr/lib/chromium.
 * Pointing Dawn there runs the Node suite on the same software GPU as the browser suite.
 */
export interface DawnEnvironment {
  /** Variables to add to the child's environment (empty: the system's Vulkan as is). */
  env: Record<string, string>;
  /** One line saying which Vulkan was chosen and why, for logs. */
  note: string;
}

/** Chromium's SwiftShader Vulkan driver and loader (Debian's chromium package). */
export const CHROMIUM_SWIFTSHADER = {
  icd: '/usr/lib/chromium/vk_swiftshader_icd.json',
  libDir: '/usr/lib/chromium',
};

const ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];

function systemVulkanLoader(): boolean {
  try {
    return execFileSync('/sbin/ldconfig', ['-p'], { encoding: 'utf8' }).includes('libvulkan.so.1');
  } catch {
    return [
      '/usr/lib/x86_64-linux-gnu',
      '/usr/lib/aarch64-linux-gnu',
      '/usr/lib64',
      '/usr/lib',
    ].some((d) => existsSync(`${d}/libvulkan.so.1`));
  }
}

function systemIcds(): string[] {
  return ICD_DIRS.flatMap((d) => {
    try {
      return readdirSync(d).filter((f) => f.endsWith('.json'));
    } catch {
      return [];
    }
  });
}

/**
 * The environment for a Node process that runs Dawn. `WEBGPU_OPTIM_VULKAN=system` keeps the
 * system's Vulkan, `=swiftshader` asks for Chromium's SwiftShader; by default the system's is used
 * when it has a loader and a driver, else Chromium's SwiftShader when it is there. A caller who set
 * VK_ICD_FILENAMES or VK_DRIVER_FILES has chosen already.
 */
export function dawnEnvironment(env: NodeJS.ProcessEnv = process.env): DawnEnvironment {
  if (process.platform !== 'linux') return { env: {}, note: 'Dawn uses the system GPU API' };
  const asked = env.WEBGPU_OPTIM_VULKAN;
  if (env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES) {
    return {
      env: {},
      note: `Vulkan driver from VK_ICD_FILENAMES/VK_DRIVER_FILES (${env.VK_ICD_FILENAMES ?? env.VK_DRIVER_FILES})`,
    };
  }
  const loader = systemVulkanLoader();
  const icds = systemIcds();
  if (asked === 'system' || (asked !== 'swiftshader' && loader && icds.length > 0)) {
    return {
      env: {},
      note: `the system's Vulkan (loader ${loader ? 'found' : 'missing'}; drivers: ${icds.join(', ') || 'none'})`,
    };
  }
  if (!existsSync(CHROMIUM_SWIFTSHADER.icd)) {
    return {
      env: {},
      note: `no Vulkan driver found (system loader ${loader ? 'found' : 'missing'}, no drivers in ${ICD_DIRS.join(', ')}, no ${CHROMIUM_SWIFTSHADER.icd}): Dawn will find no adapter`,
    };
  }
  const libs = [CHROMIUM_SWIFTSHADER.libDir, env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  return {
    env: { VK_ICD_FILENAMES: CHROMIUM_SWIFTSHADER.icd, LD_LIBRARY_PATH: libs },
    note: `Chromium's SwiftShader (${CHROMIUM_SWIFTSHADER.icd}, loader from ${CHROMIUM_SWIFTSHADER.libDir}): ${loader ? 'no system Vulkan driver' : 'no system Vulkan loader'}`,
  };
}
