;; float32 GEMM with WebAssembly SIMD: C = op(A) · op(B), assembled by tools/wasm/build.ts; and column sums,
;; the reduction behind the gradient of every broadcast bias.
;;
;; The structure is the GotoBLAS/BLIS one. The k axis is cut into chunks of KC = 256; for each chunk a
;; KC × n slab of op(B) is packed into panels of 8 columns ([kc][8], contiguous), then m is cut into blocks
;; of MC = 128 rows whose op(A) slab is packed into panels of 4 rows ([kc][4]). A 4 × 8 micro-kernel keeps
;; its C tile in eight f32x4 registers for a whole chunk: per k it loads two vectors of B, broadcasts four
;; values of A and does 8 multiplies and 8 adds, all from L1 (the B panel is 8 KB, the A block sits in L2).
;; Packing makes transposed operands cost nothing extra, and pads edge panels with zeros so that the
;; micro-kernel only ever sees whole tiles. C is nevertheless written exactly, m × n with any row pitch
;; `ldc` ≥ 4·n: a tile that reaches past C's last row or column runs on a small tile of scratch, into which
;; the part of C it covers is copied before and out of which it is copied after ($edgeTile). So C can be a
;; matrix among others in the memory, written where it lies without touching its neighbours.
;;
;; The memory is imported: the caller owns it, so one memory can hold the operands of the products and the
;; data of other modules (a compiled plan's buffers, see packages/core/src/kernels/wasm/gemm-wasm.ts).
;;
;; All addresses, strides and pitches are in bytes. Operand element (i, p) of op(A) is at
;; a + i·ars + p·acs, element (p, j) of op(B) at b + p·brs + j·bcs, so a transpose is just swapped strides.
(module
  (import "env" "memory" (memory 1))

  ;; The 4 × 8 micro-kernel: C[4][8] (+)= Ap[kc][4] · Bp[kc][8]. Stores the tile when `accumulate` is 0
  ;; (first k chunk), so C needs no zeroing; otherwise adds the 4 × 8 block at `src` (rows `srcPitch` bytes
  ;; apart) before it stores: what C holds (src = c, srcPitch = ldc), or a bias row repeated (srcPitch = 0).
  (func $kernel (param $a i32) (param $b i32) (param $kc i32) (param $c i32) (param $ldc i32) (param $accumulate i32)
    (param $src i32) (param $srcPitch i32)
    (local $end i32) (local $c1 i32) (local $c2 i32) (local $c3 i32) (local $s1 i32) (local $s2 i32) (local $s3 i32)
    (local $x v128) (local $b0 v128) (local $b1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $end (i32.add (local.get $b) (i32.shl (local.get $kc) (i32.const 5))))
    (loop $k
      (local.set $b0 (v128.load (local.get $b)))
      (local.set $b1 (v128.load offset=16 (local.get $b)))
      (local.set $x (v128.load32_splat (local.get $a)))
      (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
      (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
      (local.set $x (v128.load32_splat offset=4 (local.get $a)))
      (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
      (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
      (local.set $x (v128.load32_splat offset=8 (local.get $a)))
      (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
      (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
      (local.set $x (v128.load32_splat offset=12 (local.get $a)))
      (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
      (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (local.set $b (i32.add (local.get $b) (i32.const 32)))
      (br_if $k (i32.lt_u (local.get $b) (local.get $end))))
    (local.set $c1 (i32.add (local.get $c) (local.get $ldc)))
    (local.set $c2 (i32.add (local.get $c1) (local.get $ldc)))
    (local.set $c3 (i32.add (local.get $c2) (local.get $ldc)))
    (if (local.get $accumulate)
      (then
        (local.set $s1 (i32.add (local.get $src) (local.get $srcPitch)))
        (local.set $s2 (i32.add (local.get $s1) (local.get $srcPitch)))
        (local.set $s3 (i32.add (local.get $s2) (local.get $srcPitch)))
        (local.set $c00 (f32x4.add (local.get $c00) (v128.load (local.get $src))))
        (local.set $c01 (f32x4.add (local.get $c01) (v128.load offset=16 (local.get $src))))
        (local.set $c10 (f32x4.add (local.get $c10) (v128.load (local.get $s1))))
        (local.set $c11 (f32x4.add (local.get $c11) (v128.load offset=16 (local.get $s1))))
        (local.set $c20 (f32x4.add (local.get $c20) (v128.load (local.get $s2))))
        (local.set $c21 (f32x4.add (local.get $c21) (v128.load offset=16 (local.get $s2))))
        (local.set $c30 (f32x4.add (local.get $c30) (v128.load (local.get $s3))))
        (local.set $c31 (f32x4.add (local.get $c31) (v128.load offset=16 (local.get $s3))))))
    (v128.store (local.get $c) (local.get $c00))
    (v128.store offset=16 (local.get $c) (local.get $c01))
    (v128.store (local.get $c1) (local.get $c10))
    (v128.store offset=16 (local.get $c1) (local.get $c11))
    (v128.store (local.get $c2) (local.get $c20))
    (v128.store offset=16 (local.get $c2) (local.get $c21))
    (v128.store (local.get $c3) (local.get $c30))
    (v128.store offset=16 (local.get $c3) (local.get $c31)))

  ;; Copies a rows × cols block of floats from src (row pitch srcPitch) to dst (row pitch dstPitch); rows and
  ;; cols ≥ 1. Loads and stores move the bits unchanged.
  (func $moveBlock (param $src i32) (param $srcPitch i32) (param $dst i32) (param $dstPitch i32) (param $rows i32) (param $cols i32)
    (local $i i32) (local $j i32)
    (loop $row
      (local.set $j (i32.const 0))
      (loop $col
        (f32.store (i32.add (local.get $dst) (i32.shl (local.get $j) (i32.const 2)))
          (f32.load (i32.add (local.get $src) (i32.shl (local.get $j) (i32.const 2)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $col (i32.lt_u (local.get $j) (local.get $cols))))
      (local.set $src (i32.add (local.get $src) (local.get $srcPitch)))
      (local.set $dst (i32.add (local.get $dst) (local.get $dstPitch)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $row (i32.lt_u (local.get $i) (local.get $rows)))))

  ;; The micro-kernel for a tile of which only rows × cols (≤ 4 × 8) lie inside C: it runs on the 128-byte
  ;; scratch tile at `tile` (pitch 32), holding the covered part of what it adds (C, or the bias rows: `src`,
  ;; `srcPitch` as for $kernel) when it adds, and only that part is copied back. The arithmetic of every
  ;; element inside C is that of $kernel on C itself.
  (func $edgeTile
    (param $a i32) (param $b i32) (param $kc i32) (param $c i32) (param $ldc i32) (param $accumulate i32)
    (param $rows i32) (param $cols i32) (param $tile i32) (param $src i32) (param $srcPitch i32)
    (if (local.get $accumulate)
      (then (call $moveBlock (local.get $src) (local.get $srcPitch) (local.get $tile) (i32.const 32) (local.get $rows) (local.get $cols))))
    (call $kernel (local.get $a) (local.get $b) (local.get $kc) (local.get $tile) (i32.const 32) (local.get $accumulate)
      (local.get $tile) (i32.const 32))
    (call $moveBlock (local.get $tile) (i32.const 32) (local.get $c) (local.get $ldc) (local.get $rows) (local.get $cols)))

  ;; Packs rows [0, rows) × columns [0, kc) of op(A) (element (i, p) at a + i·rs + p·cs) into panels of 4
  ;; rows, [kc][4] each, padding the last panel with zero rows. When columns of op(A) are contiguous (rs = 4,
  ;; a transposed A) the whole panels are moved first as vectors, four values of p at a time: four loads
  ;; from four rows of the stored A and one 64-byte line of the panel written whole. Going down a column of
  ;; the stored A instead would touch a new line (and, for wide A, a new page) per value, and lines of
  ;; neighbouring panels that a stride of 4 KB maps to the same cache set evict one another before they are
  ;; used again. The remaining rows (all of them when A is not transposed, whose rows are contiguous) go row
  ;; by row.
  (func $packA (param $a i32) (param $rs i32) (param $cs i32) (param $rows i32) (param $kc i32) (param $dst i32)
    (local $i i32) (local $padded i32) (local $src i32) (local $d i32) (local $end i32)
    (local $p i32) (local $panelBytes i32) (local $fullEnd i32)
    (local.set $padded (i32.and (i32.add (local.get $rows) (i32.const 3)) (i32.const -4)))
    (if (i32.eq (local.get $rs) (i32.const 4))
      (then
        (local.set $i (i32.and (local.get $rows) (i32.const -4)))
        (local.set $panelBytes (i32.shl (local.get $kc) (i32.const 4)))
        ;; end of the whole panels' first rows: panel r starts at dst + r·kc·16
        (local.set $fullEnd (i32.add (local.get $dst) (i32.mul (i32.shr_u (local.get $i) (i32.const 2)) (local.get $panelBytes))))
        (if (local.get $i)
          (then
            (block $quadsDone
              (br_if $quadsDone (i32.lt_u (local.get $kc) (i32.const 4)))
              (loop $quad
                ;; p .. p + 3 of every whole panel; (i, p) of panel r = i / 4 is at a + 16·r + p·cs
                (local.set $src (i32.add (local.get $a) (i32.mul (local.get $p) (local.get $cs))))
                (local.set $d (i32.add (local.get $dst) (i32.shl (local.get $p) (i32.const 4))))
                (local.set $end (i32.add (local.get $fullEnd) (i32.shl (local.get $p) (i32.const 4))))
                (loop $panel
                  (v128.store (local.get $d) (v128.load (local.get $src)))
                  (v128.store offset=16 (local.get $d) (v128.load (i32.add (local.get $src) (local.get $cs))))
                  (v128.store offset=32 (local.get $d) (v128.load (i32.add (local.get $src) (i32.shl (local.get $cs) (i32.const 1)))))
                  (v128.store offset=48 (local.get $d)
                    (v128.load (i32.add (local.get $src) (i32.mul (local.get $cs) (i32.const 3)))))
                  (local.set $src (i32.add (local.get $src) (i32.const 16)))
                  (local.set $d (i32.add (local.get $d) (local.get $panelBytes)))
                  (br_if $panel (i32.lt_u (local.get $d) (local.get $end))))
                (local.set $p (i32.add (local.get $p) (i32.const 4)))
                (br_if $quad (i32.le_u (i32.add (local.get $p) (i32.const 4)) (local.get $kc)))))
            (block $tailDone
              (br_if $tailDone (i32.ge_u (local.get $p) (local.get $kc)))
              (loop $single
                (local.set $src (i32.add (local.get $a) (i32.mul (local.get $p) (local.get $cs))))
                (local.set $d (i32.add (local.get $dst) (i32.shl (local.get $p) (i32.const 4))))
                (local.set $end (i32.add (local.get $fullEnd) (i32.shl (local.get $p) (i32.const 4))))
                (loop $panel
                  (v128.store (local.get $d) (v128.load (local.get $src)))
                  (local.set $src (i32.add (local.get $src) (i32.const 16)))
                  (local.set $d (i32.add (local.get $d) (local.get $panelBytes)))
                  (br_if $panel (i32.lt_u (local.get $d) (local.get $end))))
                (local.set $p (i32.add (local.get $p) (i32.const 1)))
                (br_if $single (i32.lt_u (local.get $p) (local.get $kc)))))))))
    (block $rowsDone
      (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $padded)))
      (loop $row
        ;; destination of (i, 0): panel i / 4 (kc · 16 bytes each), lane i % 4
        (local.set $d (i32.add (local.get $dst)
          (i32.add (i32.mul (i32.shr_u (local.get $i) (i32.const 2)) (i32.shl (local.get $kc) (i32.const 4)))
                   (i32.shl (i32.and (local.get $i) (i32.const 3)) (i32.const 2)))))
        (local.set $end (i32.add (local.get $d) (i32.shl (local.get $kc) (i32.const 4))))
        (if (i32.lt_u (local.get $i) (local.get $rows))
          (then
            (local.set $src (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $rs))))
            (loop $p
              (f32.store (local.get $d) (f32.load (local.get $src)))
              (local.set $src (i32.add (local.get $src) (local.get $cs)))
              (local.set $d (i32.add (local.get $d) (i32.const 16)))
              (br_if $p (i32.lt_u (local.get $d) (local.get $end)))))
          (else
            (loop $z
              (f32.store (local.get $d) (f32.const 0))
              (local.set $d (i32.add (local.get $d) (i32.const 16)))
              (br_if $z (i32.lt_u (local.get $d) (local.get $end))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $row (i32.lt_u (local.get $i) (local.get $padded))))))

  ;; Packs rows [0, kc) × columns [0, n) of op(B) (element (p, j) at b + p·rs + j·cs) into panels of 8
  ;; columns, [kc][8] each, padding the last panel with zero columns. When rows of op(B) are contiguous
  ;; (cs = 4) whole panels move as two vectors per row; the rest goes column by column, which reads a
  ;; transposed B contiguously.
  (func $packB (param $b i32) (param $rs i32) (param $cs i32) (param $n i32) (param $kc i32) (param $dst i32)
    (local $j i32) (local $p i32) (local $full i32) (local $padded i32) (local $src i32) (local $d i32) (local $end i32)
    (local.set $padded (i32.and (i32.add (local.get $n) (i32.const 7)) (i32.const -8)))
    (if (i32.eq (local.get $cs) (i32.const 4))
      (then
        (local.set $full (i32.and (local.get $n) (i32.const -8)))
        (if (local.get $full)
          (then
            (loop $row
              (local.set $src (i32.add (local.get $b) (i32.mul (local.get $p) (local.get $rs))))
              (local.set $d (i32.add (local.get $dst) (i32.shl (local.get $p) (i32.const 5))))
              (local.set $end (i32.add (local.get $src) (i32.shl (local.get $full) (i32.const 2))))
              (loop $panel
                (v128.store (local.get $d) (v128.load (local.get $src)))
                (v128.store offset=16 (local.get $d) (v128.load offset=16 (local.get $src)))
                (local.set $src (i32.add (local.get $src) (i32.const 32)))
                (local.set $d (i32.add (local.get $d) (i32.shl (local.get $kc) (i32.const 5))))
                (br_if $panel (i32.lt_u (local.get $src) (local.get $end))))
              (local.set $p (i32.add (local.get $p) (i32.const 1)))
              (br_if $row (i32.lt_u (local.get $p) (local.get $kc))))))
        (local.set $j (local.get $full))))
    (block $done
      (br_if $done (i32.ge_u (local.get $j) (local.get $padded)))
      (loop $col
        ;; destination of (0, j): panel j / 8 (kc · 32 bytes each), lane j % 8
        (local.set $d (i32.add (local.get $dst)
          (i32.add (i32.mul (i32.shr_u (local.get $j) (i32.const 3)) (i32.shl (local.get $kc) (i32.const 5)))
                   (i32.shl (i32.and (local.get $j) (i32.const 7)) (i32.const 2)))))
        (local.set $end (i32.add (local.get $d) (i32.shl (local.get $kc) (i32.const 5))))
        (if (i32.lt_u (local.get $j) (local.get $n))
          (then
            (local.set $src (i32.add (local.get $b) (i32.mul (local.get $j) (local.get $cs))))
            (loop $p
              (f32.store (local.get $d) (f32.load (local.get $src)))
              (local.set $src (i32.add (local.get $src) (local.get $rs)))
              (local.set $d (i32.add (local.get $d) (i32.const 32)))
              (br_if $p (i32.lt_u (local.get $d) (local.get $end)))))
          (else
            (loop $z
              (f32.store (local.get $d) (f32.const 0))
              (local.set $d (i32.add (local.get $d) (i32.const 32)))
              (br_if $z (i32.lt_u (local.get $d) (local.get $end))))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $col (i32.lt_u (local.get $j) (local.get $padded))))))

  ;; One chunk of k: C (+)= op(A)[:, pc : pc + kc] · Bp, where Bp holds the chunk's op(B) packed into panels
  ;; of 8 columns and `a` points at op(A)[0, pc]. m is cut into blocks of MC = 128 rows; each block's slab
  ;; of op(A) is packed into panels of 4 rows and every (B panel, A panel) pair runs the micro-kernel, B
  ;; panel outermost so that it stays in L1 while the A block streams past it. `accumulate` is 0 for the
  ;; first chunk (see $kernel). With a `bias` address (not -1) every tile adds that row of n floats instead
  ;; of C. Tiles reaching past row m or column n go through $edgeTile, whose scratch tile follows the packed A
  ;; block (at packA + 4·128·256).
  (func $chunk
    (param $m i32) (param $n i32) (param $kc i32)
    (param $a i32) (param $ars i32) (param $acs i32)
    (param $packedB i32) (param $c i32) (param $ldc i32) (param $packA i32) (param $accumulate i32) (param $bias i32)
    (local $ic i32) (local $mc i32) (local $mcPadded i32) (local $jr i32) (local $ir i32)
    (local $nPadded i32) (local $rows i32) (local $cols i32) (local $tileA i32) (local $tileB i32) (local $tileC i32)
    (local $src i32) (local $srcPitch i32)
    (local.set $nPadded (i32.and (i32.add (local.get $n) (i32.const 7)) (i32.const -8)))
    (loop $block
      (local.set $mc (select (i32.const 128) (i32.sub (local.get $m) (local.get $ic))
        (i32.lt_u (i32.const 128) (i32.sub (local.get $m) (local.get $ic)))))
      (local.set $mcPadded (i32.and (i32.add (local.get $mc) (i32.const 3)) (i32.const -4)))
      (call $packA (i32.add (local.get $a) (i32.mul (local.get $ic) (local.get $ars)))
        (local.get $ars) (local.get $acs) (local.get $mc) (local.get $kc) (local.get $packA))
      (local.set $jr (i32.const 0))
      (loop $panelB
        (local.set $ir (i32.const 0))
        (local.set $tileB (i32.add (local.get $packedB) (i32.mul (i32.shl (local.get $jr) (i32.const 2)) (local.get $kc))))
        (local.set $cols (i32.sub (local.get $n) (local.get $jr)))
        (loop $panelA
          (local.set $tileA (i32.add (local.get $packA) (i32.mul (i32.shl (local.get $ir) (i32.const 2)) (local.get $kc))))
          (local.set $tileC (i32.add (local.get $c)
            (i32.add (i32.mul (i32.add (local.get $ic) (local.get $ir)) (local.get $ldc)) (i32.shl (local.get $jr) (i32.const 2)))))
          (local.set $rows (i32.sub (local.get $mc) (local.get $ir)))
          ;; what the tile adds: the bias row's columns, repeated down the rows, or C
          (local.set $src (select (i32.add (local.get $bias) (i32.shl (local.get $jr) (i32.const 2))) (local.get $tileC)
            (i32.ne (local.get $bias) (i32.const -1))))
          (local.set $srcPitch (select (i32.const 0) (local.get $ldc) (i32.ne (local.get $bias) (i32.const -1))))
          (if (i32.and (i32.ge_u (local.get $rows) (i32.const 4)) (i32.ge_u (local.get $cols) (i32.const 8)))
            (then (call $kernel (local.get $tileA) (local.get $tileB) (local.get $kc) (local.get $tileC) (local.get $ldc) (local.get $accumulate)
              (local.get $src) (local.get $srcPitch)))
            (else
              (call $edgeTile (local.get $tileA) (local.get $tileB) (local.get $kc) (local.get $tileC) (local.get $ldc) (local.get $accumulate)
                (select (local.get $rows) (i32.const 4) (i32.lt_u (local.get $rows) (i32.const 4)))
                (select (local.get $cols) (i32.const 8) (i32.lt_u (local.get $cols) (i32.const 8)))
                (i32.add (local.get $packA) (i32.const 131072))
                (local.get $src) (local.get $srcPitch))))
          (local.set $ir (i32.add (local.get $ir) (i32.const 4)))
          (br_if $panelA (i32.lt_u (local.get $ir) (local.get $mcPadded))))
        (local.set $jr (i32.add (local.get $jr) (i32.const 8)))
        (br_if $panelB (i32.lt_u (local.get $jr) (local.get $nPadded))))
      (local.set $ic (i32.add (local.get $ic) (i32.const 128)))
      (br_if $block (i32.lt_u (local.get $ic) (local.get $m)))))

  ;; C = op(A) · op(B) for m, n, k ≥ 1, written exactly: m rows of n floats, row pitch ldc (≥ 4·n).
  ;; packA needs 4·128·256 + 128 bytes and packB 4·256·round8(n). Each chunk of k packs its slab of op(B)
  ;; just before using it, so the slab is still in cache.
  (func (export "gemm")
    (param $m i32) (param $n i32) (param $k i32)
    (param $a i32) (param $ars i32) (param $acs i32)
    (param $b i32) (param $brs i32) (param $bcs i32)
    (param $c i32) (param $ldc i32) (param $packA i32) (param $packB i32)
    (local $pc i32) (local $kc i32)
    (loop $chunks
      (local.set $kc (select (i32.const 256) (i32.sub (local.get $k) (local.get $pc))
        (i32.lt_u (i32.const 256) (i32.sub (local.get $k) (local.get $pc)))))
      (call $packB (i32.add (local.get $b) (i32.mul (local.get $pc) (local.get $brs)))
        (local.get $brs) (local.get $bcs) (local.get $n) (local.get $kc) (local.get $packB))
      (call $chunk (local.get $m) (local.get $n) (local.get $kc)
        (i32.add (local.get $a) (i32.mul (local.get $pc) (local.get $acs))) (local.get $ars) (local.get $acs)
        (local.get $packB) (local.get $c) (local.get $ldc) (local.get $packA) (local.get $pc) (i32.const -1))
      (local.set $pc (i32.add (local.get $pc) (i32.const 256)))
      (br_if $chunks (i32.lt_u (local.get $pc) (local.get $k)))))

  ;; C += op(A) · op(B): "gemm" adding to what C holds from the first chunk of k on. With k ≤ 256 (one chunk)
  ;; each element is the product's sum rounded once, plus C's value: the bits of "gemm" followed by an add.
  (func (export "gemmAccumulate")
    (param $m i32) (param $n i32) (param $k i32)
    (param $a i32) (param $ars i32) (param $acs i32)
    (param $b i32) (param $brs i32) (param $bcs i32)
    (param $c i32) (param $ldc i32) (param $packA i32) (param $packB i32)
    (local $pc i32) (local $kc i32)
    (loop $chunks
      (local.set $kc (select (i32.const 256) (i32.sub (local.get $k) (local.get $pc))
        (i32.lt_u (i32.const 256) (i32.sub (local.get $k) (local.get $pc)))))
      (call $packB (i32.add (local.get $b) (i32.mul (local.get $pc) (local.get $brs)))
        (local.get $brs) (local.get $bcs) (local.get $n) (local.get $kc) (local.get $packB))
      (call $chunk (local.get $m) (local.get $n) (local.get $kc)
        (i32.add (local.get $a) (i32.mul (local.get $pc) (local.get $acs))) (local.get $ars) (local.get $acs)
        (local.get $packB) (local.get $c) (local.get $ldc) (local.get $packA) (i32.const 1) (i32.const -1))
      (local.set $pc (i32.add (local.get $pc) (i32.const 256)))
      (br_if $chunks (i32.lt_u (local.get $pc) (local.get $k)))))

  ;; C = op(A) · op(B) + bias, the row of n floats at `bias` added to every row, for k ≤ 256: each
  ;; element is the product's sum rounded once, plus the bias: the bits of "gemm" followed by an add of the
  ;; row, without C being filled with the row first or read back.
  (func (export "gemmBias")
    (param $m i32) (param $n i32) (param $k i32)
    (param $a i32) (param $ars i32) (param $acs i32)
    (param $b i32) (param $brs i32) (param $bcs i32)
    (param $c i32) (param $ldc i32) (param $packA i32) (param $packB i32) (param $bias i32)
    (call $packB (local.get $b) (local.get $brs) (local.get $bcs) (local.get $n) (local.get $k) (local.get $packB))
    (call $chunk (local.get $m) (local.get $n) (local.get $k) (local.get $a) (local.get $ars) (local.get $acs)
      (local.get $packB) (local.get $c) (local.get $ldc) (local.get $packA) (i32.const 1) (local.get $bias)))

  ;; Packs all of op(B) (k × n, element (p, j) at b + p·brs + j·bcs) for `gemmPackedB`: chunk after chunk
  ;; of k, the chunk starting at row pc stored at dst + 4·pc·round8(n) in $packB's panel layout; 4·k·round8(n)
  ;; bytes in all. A B operand shared by many products is packed once this way.
  (func (export "packB")
    (param $b i32) (param $brs i32) (param $bcs i32) (param $n i32) (param $k i32) (param $dst i32)
    (local $pc i32) (local $kc i32) (local $nPadded i32)
    (local.set $nPadded (i32.and (i32.add (local.get $n) (i32.const 7)) (i32.const -8)))
    (loop $chunks
      (local.set $kc (select (i32.const 256) (i32.sub (local.get $k) (local.get $pc))
        (i32.lt_u (i32.const 256) (i32.sub (local.get $k) (local.get $pc)))))
      (call $packB (i32.add (local.get $b) (i32.mul (local.get $pc) (local.get $brs)))
        (local.get $brs) (local.get $bcs) (local.get $n) (local.get $kc)
        (i32.add (local.get $dst) (i32.shl (i32.mul (local.get $pc) (local.get $nPadded)) (i32.const 2))))
      (local.set $pc (i32.add (local.get $pc) (i32.const 256)))
      (br_if $chunks (i32.lt_u (local.get $pc) (local.get $k)))))

  ;; C = op(A) · op(B) for m, n, k ≥ 1 with op(B) already packed by the "packB" export at `packedB`; C and
  ;; packA as for "gemm". The arithmetic is that of "gemm", so both give bit-identical results.
  (func (export "gemmPackedB")
    (param $m i32) (param $n i32) (param $k i32)
    (param $a i32) (param $ars i32) (param $acs i32)
    (param $packedB i32) (param $c i32) (param $ldc i32) (param $packA i32)
    (local $pc i32) (local $kc i32) (local $nPadded i32)
    (local.set $nPadded (i32.and (i32.add (local.get $n) (i32.const 7)) (i32.const -8)))
    (loop $chunks
      (local.set $kc (select (i32.const 256) (i32.sub (local.get $k) (local.get $pc))
        (i32.lt_u (i32.const 256) (i32.sub (local.get $k) (local.get $pc)))))
      (call $chunk (local.get $m) (local.get $n) (local.get $kc)
        (i32.add (local.get $a) (i32.mul (local.get $pc) (local.get $acs))) (local.get $ars) (local.get $acs)
        (i32.add (local.get $packedB) (i32.shl (i32.mul (local.get $pc) (local.get $nPadded)) (i32.const 2)))
        (local.get $c) (local.get $ldc) (local.get $packA) (local.get $pc) (i32.const -1))
      (local.set $pc (i32.add (local.get $pc) (i32.const 256)))
      (br_if $chunks (i32.lt_u (local.get $pc) (local.get $k)))))
  ;; dst[j] = Σ_r x[r][j] for a rows × cols matrix x (rows ≥ 1, cols ≥ 1): the column sums, which are the
  ;; gradient of a broadcast bias. Each column is summed from 0 in row order, one rounding per add, in four
  ;; lanes at a time: exactly the arithmetic of the TypeScript reduction, so both give the same bits.
  (func (export "sumRows") (param $x i32) (param $rows i32) (param $cols i32) (param $dst i32)
    (local $vecEnd i32) (local $end i32) (local $rowEnd i32) (local $d i32) (local $src i32) (local $r i32)
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $cols) (i32.const 2))))
    (local.set $vecEnd (i32.add (local.get $dst) (i32.shl (i32.and (local.get $cols) (i32.const -4)) (i32.const 2))))
    (local.set $d (local.get $dst))
    (loop $zero
      (f32.store (local.get $d) (f32.const 0))
      (local.set $d (i32.add (local.get $d) (i32.const 4)))
      (br_if $zero (i32.lt_u (local.get $d) (local.get $end))))
    (local.set $src (local.get $x))
    (loop $row
      (local.set $d (local.get $dst))
      (block $vectorsDone
        (br_if $vectorsDone (i32.ge_u (local.get $d) (local.get $vecEnd)))
        (loop $vector
          (v128.store (local.get $d) (f32x4.add (v128.load (local.get $d)) (v128.load (local.get $src))))
          (local.set $d (i32.add (local.get $d) (i32.const 16)))
          (local.set $src (i32.add (local.get $src) (i32.const 16)))
          (br_if $vector (i32.lt_u (local.get $d) (local.get $vecEnd)))))
      (block $scalarsDone
        (br_if $scalarsDone (i32.ge_u (local.get $d) (local.get $end)))
        (loop $scalar
          (f32.store (local.get $d) (f32.add (f32.load (local.get $d)) (f32.load (local.get $src))))
          (local.set $d (i32.add (local.get $d) (i32.const 4)))
          (local.set $src (i32.add (local.get $src) (i32.const 4)))
          (br_if $scalar (i32.lt_u (local.get $d) (local.get $end)))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br_if $row (i32.lt_u (local.get $r) (local.get $rows))))))
