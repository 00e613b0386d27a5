/**
 * `webgpuDevice`'s options: a missing GPU object and an unknown matmul layout are refused with errors that
 * name the option, before any adapter is asked for. No adapter needed.
 */
import { describe, expect, it } from 'vitest';
import { webgpuDevice, type MatmulTiles } from '@tapestry/webgpu';

describe('webgpuDevice options', () => {
  // a stand-in GPU: the checks come before it is asked for an adapter
  let asked = 0;
  const gpu = {
    requestAdapter: async () => {
      asked++;
      return null;
    },
  } as unknown as GPU;

  it('refuses a missing or wrong gpu, naming the option', async () => {
    await expect(webgpuDevice(undefined as never)).rejects.toThrow(/webgpuDevice: options\.gpu must be a GPU object/);
    await expect(webgpuDevice({ gpu: {} as GPU })).rejects.toThrow(/webgpuDevice: options\.gpu must be a GPU object/);
  });

  it('refuses an unknown matmulTiles, naming it and the value, before asking for an adapter', async () => {
    await expect(webgpuDevice({ gpu, matmulTiles: 'wide' as MatmulTiles })).rejects.toThrow(
      /webgpuDevice: options\.matmulTiles must be 'vector' or 'scalar', got .*wide/,
    );
    expect(asked).toBe(0);
    // a known layout gets as far as the adapter (none here)
    await expect(webgpuDevice({ gpu, matmulTiles: 'scalar' })).rejects.toThrow(/no WebGPU adapter/);
    expect(asked).toBe(1);
  });
});
