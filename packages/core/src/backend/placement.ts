/**
 * Placement, JAX-style: `devicePut` puts a tree's tensors on a backend, `deviceGet` brings them back to the
 * CPU. Ops run where their inputs live; there is no implicit transfer.
 */
import { ArgumentError, DTypeError } from '../errors.js';
import { hostData, Tensor } from '../tensor.js';
import { freezeTree, treeFlattenWithPath, treeLeaves, treeStructure, treeUnflatten } from '../tree/tree.js';
import type { Backend } from './backend.js';
import { cpu } from './cpu.js';

/**
 * The tree with every tensor on `device` (tensors already there are kept as they are). Moving from the CPU
 * is synchronous; a tensor on another device must first come back with {@link deviceGet}.
 * @example
 * ```ts
 * const gpu = await webgpuDevice({ gpu: navigator.gpu });
 * const params = devicePut(initParams, gpu);
 * ```
 */
export function devicePut<T>(tree: T, device: Backend): T {
  if (device === null || typeof device !== 'object' || typeof device.fromHost !== 'function') {
    throw new ArgumentError(`devicePut: device must be a backend (cpu, or one from webgpuDevice), got ${String(device)}`);
  }
  const leaves = treeFlattenWithPath<unknown>(tree).map(([path, leaf]) => {
    if (!(leaf instanceof Tensor) || leaf.backend === device) return leaf;
    const where = `${leaf.toString()}${path === '' ? '' : ` at ${path}`}`;
    if (!device.dtypes.includes(leaf.dtype)) {
      throw new DTypeError(
        `devicePut: ${where} is ${leaf.dtype}, which ${device.name} cannot hold (it holds ${device.dtypes.join(', ')}); ` +
          `cast it first${leaf.dtype === 'float64' ? " (WGSL has no 64-bit floats: use cast(x, 'float32'))" : ''}`,
      );
    }
    if (leaf.isAbstract) throw new ArgumentError(`devicePut: ${where} is a traced value; place the arguments before calling the traced function`);
    if (leaf.backend.hostView === undefined) {
      throw new ArgumentError(`devicePut: ${where} lives on ${leaf.backend.name}; bring it back with await deviceGet(...) first`);
    }
    const data = hostData(leaf, 'devicePut');
    return new Tensor(device.fromHost(data), leaf.shape, leaf.dtype, null, null, device);
  });
  return freezeTree(treeUnflatten(treeStructure(tree), leaves)) as T;
}

/**
 * The tree with every tensor copied back to the CPU, once the devices' pending work is done.
 * @example
 * ```ts
 * const { loss } = await deviceGet(step(params, batch));
 * loss.item();
 * ```
 */
export async function deviceGet<T>(tree: T): Promise<T> {
  const leaves = await Promise.all(
    treeLeaves(tree).map(async (leaf: unknown) => {
      if (!(leaf instanceof Tensor) || leaf.backend === cpu) return leaf;
      if (leaf.isAbstract) throw new ArgumentError(`deviceGet: ${leaf.toString()} is a traced value, which has no data to read`);
      return new Tensor(await leaf.data(), leaf.shape, leaf.dtype);
    }),
  );
  return freezeTree(treeUnflatten(treeStructure(tree), leaves)) as T;
}
