/**
 * The bookkeeping of the WebAssembly GEMM's resident region: blocks of the module's memory that outlive a
 * call (packed operands), from address 0 up to `top`. Everything above `top` is the scratch of the call in
 * progress, which nothing keeps between calls and which therefore simply starts wherever the region ends.
 * Released blocks are reused first-fit and the region shrinks when its top block goes.
 */
export class ResidentRegion {
  /** End of the region in bytes: the first byte above every live block. */
  top = 0;
  /** Released blocks below `top`, sorted by address, never touching one another. */
  private readonly free: { at: number; bytes: number }[] = [];

  /** Reserves `bytes` and returns the block's address: the first released block that fits, or the top. */
  reserve(bytes: number): number {
    for (let f = 0; f < this.free.length; f++) {
      const block = this.free[f]!;
      if (block.bytes < bytes) continue;
      if (block.bytes === bytes) this.free.splice(f, 1);
      else this.free[f] = { at: block.at + bytes, bytes: block.bytes - bytes };
      return block.at;
    }
    const at = this.top;
    this.top += bytes;
    return at;
  }

  /** Returns the block of `bytes` at `at` (as reserved), merging it with free neighbours. */
  release(at: number, bytes: number): void {
    const free = this.free;
    let f = 0;
    while (f < free.length && free[f]!.at < at) f++;
    free.splice(f, 0, { at, bytes });
    if (f + 1 < free.length && at + bytes === free[f + 1]!.at) {
      free[f] = { at, bytes: bytes + free[f + 1]!.bytes };
      free.splice(f + 1, 1);
    }
    if (f > 0 && free[f - 1]!.at + free[f - 1]!.bytes === at) {
      free[f - 1] = { at: free[f - 1]!.at, bytes: free[f - 1]!.bytes + free[f]!.bytes };
      free.splice(f, 1);
    }
    const last = free[free.length - 1];
    if (last !== undefined && last.at + last.bytes === this.top) {
      this.top = last.at;
      free.pop();
    }
  }

  /** Bytes of released blocks below the top (reusable without growing the region). */
  get freeBytes(): number {
    return this.free.reduce((t, b) => t + b.bytes, 0);
  }
}
