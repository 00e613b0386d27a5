/**
 * The `GPUBufferUsage` flags the package uses, by value: the global `GPUBufferUsage` exists in browsers, but
 * Node's binding (the `webgpu` package) does not define the browser's globals unless asked to.
 */
export const MAP_READ = 0x01;
export const COPY_SRC = 0x04;
export const COPY_DST = 0x08;
export const UNIFORM = 0x40;
export const STORAGE = 0x80;
export const QUERY_RESOLVE = 0x200;
