/**
 * Loading the kernel modules that the build embeds as base64 (packages/core/src/kernels/wasm/*-bytes.ts).
 */

/** Decodes standard base64 (no line breaks) into bytes; `atob` is missing in some workers' scopes. @internal */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const clean = text.replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let o = 0;
  for (let i = 0; i < clean.length; i++) {
    value = (value << 6) | alphabet.indexOf(clean[i]!);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (value >> bits) & 0xff;
    }
  }
  return out;
}

/**
 * Instantiates a module without imports, synchronously where the engine allows it. Returns its exports and the
 * compiled module (to instantiate again); null where WebAssembly is missing, the engine rejects the module
 * (validation is the feature test: an engine without SIMD, or without relaxed SIMD, rejects the instructions),
 * or compiling is refused (a strict Content-Security-Policy). Browsers refuse synchronous compiles of large
 * modules on the main thread: then the module is compiled asynchronously, `ready` receives its exports and
 * the module when it is done, and this returns null meanwhile (callers run their JavaScript kernels until
 * then). @internal
 */
export function instantiate<T>(
  bytes: Uint8Array<ArrayBuffer>,
  ready: (exports: T, module: WebAssembly.Module) => void,
): { readonly exports: T; readonly module: WebAssembly.Module } | null {
  if (typeof WebAssembly !== 'object' || typeof WebAssembly.validate !== 'function') return null;
  if (!WebAssembly.validate(bytes)) return null;
  try {
    const module = new WebAssembly.Module(bytes);
    return { exports: new WebAssembly.Instance(module, {}).exports as unknown as T, module };
  } catch {
    // a synchronous compile refused (size limit on a browser's main thread, or a CSP): try asynchronously,
    // which a size limit allows and a CSP refuses again (then the JavaScript kernels simply stay)
    if (typeof WebAssembly.instantiate === 'function') {
      WebAssembly.instantiate(bytes, {}).then(
        (result) => ready(result.instance.exports as unknown as T, result.module),
        () => undefined,
      );
    }
    return null;
  }
}
