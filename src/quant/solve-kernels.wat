;; The innermost loops of layer-wise weight rounding (weight-rounding-solve.ts) on two f64 lanes at a time. Pointers are
;; byte offsets into the module's memory; every array is f64. Compiled to WebAssembly at build time (esbuild.mjs).
(module
  (memory (export "memory") 1)

  ;; w_k[j] -= e_k · u[j] for j in [from, to), k = 0..3: GPTQ spreading four rows' rounding errors over the inputs not
  ;; yet rounded. The same two operations per element as the JavaScript loop (a product, then a difference), so the
  ;; results are the same to the bit.
  (func (export "axpy4")
    (param $u i32) (param $w0 i32) (param $w1 i32) (param $w2 i32) (param $w3 i32) (param $from i32) (param $to i32)
    (param $e0 f64) (param $e1 f64) (param $e2 f64) (param $e3 f64)
    (local $j i32) (local $o i32) (local $uv v128)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $uj f64)
    (local.set $s0 (f64x2.splat (local.get $e0)))
    (local.set $s1 (f64x2.splat (local.get $e1)))
    (local.set $s2 (f64x2.splat (local.get $e2)))
    (local.set $s3 (f64x2.splat (local.get $e3)))
    (local.set $j (local.get $from))
    (block $done
      (loop $pairs
        (br_if $done (i32.gt_s (i32.add (local.get $j) (i32.const 2)) (local.get $to)))
        (local.set $o (i32.shl (local.get $j) (i32.const 3)))
        (local.set $uv (v128.load (i32.add (local.get $u) (local.get $o))))
        (v128.store (i32.add (local.get $w0) (local.get $o))
          (f64x2.sub (v128.load (i32.add (local.get $w0) (local.get $o))) (f64x2.mul (local.get $s0) (local.get $uv))))
        (v128.store (i32.add (local.get $w1) (local.get $o))
          (f64x2.sub (v128.load (i32.add (local.get $w1) (local.get $o))) (f64x2.mul (local.get $s1) (local.get $uv))))
        (v128.store (i32.add (local.get $w2) (local.get $o))
          (f64x2.sub (v128.load (i32.add (local.get $w2) (local.get $o))) (f64x2.mul (local.get $s2) (local.get $uv))))
        (v128.store (i32.add (local.get $w3) (local.get $o))
          (f64x2.sub (v128.load (i32.add (local.get $w3) (local.get $o))) (f64x2.mul (local.get $s3) (local.get $uv))))
        (local.set $j (i32.add (local.get $j) (i32.const 2)))
        (br $pairs)))
    (if (i32.lt_s (local.get $j) (local.get $to))
      (then
        (local.set $o (i32.shl (local.get $j) (i32.const 3)))
        (local.set $uj (f64.load (i32.add (local.get $u) (local.get $o))))
        (f64.store (i32.add (local.get $w0) (local.get $o))
          (f64.sub (f64.load (i32.add (local.get $w0) (local.get $o))) (f64.mul (local.get $e0) (local.get $uj))))
        (f64.store (i32.add (local.get $w1) (local.get $o))
          (f64.sub (f64.load (i32.add (local.get $w1) (local.get $o))) (f64.mul (local.get $e1) (local.get $uj))))
        (f64.store (i32.add (local.get $w2) (local.get $o))
          (f64.sub (f64.load (i32.add (local.get $w2) (local.get $o))) (f64.mul (local.get $e2) (local.get $uj))))
        (f64.store (i32.add (local.get $w3) (local.get $o))
          (f64.sub (f64.load (i32.add (local.get $w3) (local.get $o))) (f64.mul (local.get $e3) (local.get $uj)))))))

;; xᵀHx of four tile rows x_k (size values each at $x0..$x3) for a symmetric size×size H at $h, from its upper
  ;; triangle — Σ_i x_i·(H_ii·x_i + 2·Σ_{j>i} H_ij·x_j) — each row segment of H read once for the four; the four sums
  ;; are stored at $out. Lanes add alternate j, so a sum may differ from the JavaScript loop's in its last bits.
  (func (export "quadraticForms4")
    (param $h i32) (param $size i32) (param $x0 i32) (param $x1 i32) (param $x2 i32) (param $x3 i32) (param $out i32)
    (local $i i32) (local $j i32) (local $o i32) (local $row i32) (local $hv v128) (local $d f64) (local $xi f64)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $r0 f64) (local $r1 f64) (local $r2 f64) (local $r3 f64)
    (local $t0 f64) (local $t1 f64) (local $t2 f64) (local $t3 f64)
    (block $done
      (loop $rows
        (br_if $done (i32.ge_s (local.get $i) (local.get $size)))
        (local.set $row (i32.add (local.get $h) (i32.shl (i32.mul (local.get $i) (local.get $size)) (i32.const 3))))
        (local.set $a0 (f64x2.splat (f64.const 0)))
        (local.set $a1 (f64x2.splat (f64.const 0)))
        (local.set $a2 (f64x2.splat (f64.const 0)))
        (local.set $a3 (f64x2.splat (f64.const 0)))
        (local.set $j (i32.add (local.get $i) (i32.const 1)))
        (block $paired
          (loop $pairs
            (br_if $paired (i32.gt_s (i32.add (local.get $j) (i32.const 2)) (local.get $size)))
            (local.set $o (i32.shl (local.get $j) (i32.const 3)))
            (local.set $hv (v128.load (i32.add (local.get $row) (local.get $o))))
            (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $hv) (v128.load (i32.add (local.get $x0) (local.get $o))))))
            (local.set $a1 (f64x2.add (local.get $a1) (f64x2.mul (local.get $hv) (v128.load (i32.add (local.get $x1) (local.get $o))))))
            (local.set $a2 (f64x2.add (local.get $a2) (f64x2.mul (local.get $hv) (v128.load (i32.add (local.get $x2) (local.get $o))))))
            (local.set $a3 (f64x2.add (local.get $a3) (f64x2.mul (local.get $hv) (v128.load (i32.add (local.get $x3) (local.get $o))))))
            (local.set $j (i32.add (local.get $j) (i32.const 2)))
            (br $pairs)))
        (local.set $r0 (f64.add (f64x2.extract_lane 0 (local.get $a0)) (f64x2.extract_lane 1 (local.get $a0))))
        (local.set $r1 (f64.add (f64x2.extract_lane 0 (local.get $a1)) (f64x2.extract_lane 1 (local.get $a1))))
        (local.set $r2 (f64.add (f64x2.extract_lane 0 (local.get $a2)) (f64x2.extract_lane 1 (local.get $a2))))
        (local.set $r3 (f64.add (f64x2.extract_lane 0 (local.get $a3)) (f64x2.extract_lane 1 (local.get $a3))))
        (if (i32.lt_s (local.get $j) (local.get $size))
          (then
            (local.set $o (i32.shl (local.get $j) (i32.const 3)))
            (local.set $d (f64.load (i32.add (local.get $row) (local.get $o))))
            (local.set $r0 (f64.add (local.get $r0) (f64.mul (local.get $d) (f64.load (i32.add (local.get $x0) (local.get $o))))))
            (local.set $r1 (f64.add (local.get $r1) (f64.mul (local.get $d) (f64.load (i32.add (local.get $x1) (local.get $o))))))
            (local.set $r2 (f64.add (local.get $r2) (f64.mul (local.get $d) (f64.load (i32.add (local.get $x2) (local.get $o))))))
            (local.set $r3 (f64.add (local.get $r3) (f64.mul (local.get $d) (f64.load (i32.add (local.get $x3) (local.get $o))))))))
        (local.set $o (i32.shl (local.get $i) (i32.const 3)))
        (local.set $d (f64.load (i32.add (local.get $row) (local.get $o))))
        (local.set $xi (f64.load (i32.add (local.get $x0) (local.get $o))))
        (local.set $t0 (f64.add (local.get $t0) (f64.mul (local.get $xi) (f64.add (f64.mul (local.get $d) (local.get $xi)) (f64.mul (f64.const 2) (local.get $r0))))))
        (local.set $xi (f64.load (i32.add (local.get $x1) (local.get $o))))
        (local.set $t1 (f64.add (local.get $t1) (f64.mul (local.get $xi) (f64.add (f64.mul (local.get $d) (local.get $xi)) (f64.mul (f64.const 2) (local.get $r1))))))
        (local.set $xi (f64.load (i32.add (local.get $x2) (local.get $o))))
        (local.set $t2 (f64.add (local.get $t2) (f64.mul (local.get $xi) (f64.add (f64.mul (local.get $d) (local.get $xi)) (f64.mul (f64.const 2) (local.get $r2))))))
        (local.set $xi (f64.load (i32.add (local.get $x3) (local.get $o))))
        (local.set $t3 (f64.add (local.get $t3) (f64.mul (local.get $xi) (f64.add (f64.mul (local.get $d) (local.get $xi)) (f64.mul (f64.const 2) (local.get $r3))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows)))
    (f64.store (local.get $out) (local.get $t0))
    (f64.store offset=8 (local.get $out) (local.get $t1))
    (f64.store offset=16 (local.get $out) (local.get $t2))
    (f64.store offset=24 (local.get $out) (local.get $t3)))
  ;; m_i[0..=k] −= coef · m_k[0..=k]: one step of invertLower, two elements at a time.
  (func $subtractRow (param $dst i32) (param $src i32) (param $last i32) (param $coef f64)
    (local $j i32) (local $o i32) (local $c v128)
    (local.set $c (f64x2.splat (local.get $coef)))
    (block $done
      (loop $pairs
        (br_if $done (i32.gt_s (i32.add (local.get $j) (i32.const 1)) (local.get $last)))
        (local.set $o (i32.shl (local.get $j) (i32.const 3)))
        (v128.store (i32.add (local.get $dst) (local.get $o))
          (f64x2.sub (v128.load (i32.add (local.get $dst) (local.get $o)))
            (f64x2.mul (local.get $c) (v128.load (i32.add (local.get $src) (local.get $o))))))
        (local.set $j (i32.add (local.get $j) (i32.const 2)))
        (br $pairs)))
    (if (i32.le_s (local.get $j) (local.get $last))
      (then
        (local.set $o (i32.shl (local.get $j) (i32.const 3)))
        (f64.store (i32.add (local.get $dst) (local.get $o))
          (f64.sub (f64.load (i32.add (local.get $dst) (local.get $o)))
            (f64.mul (local.get $coef) (f64.load (i32.add (local.get $src) (local.get $o)))))))))

  ;; The inverse m of a lower-triangular n×n matrix l (row-major, at $l; m written at $m): row i of m is
  ;; (e_i − Σ_{k<i} l_ik · row k of m) / l_ii. The same operations per element, in the same order, as the JavaScript
  ;; loop (weight-rounding-solve.ts invertLower).
  (func (export "invertLower") (param $l i32) (param $m i32) (param $n i32)
    (local $i i32) (local $k i32) (local $j i32) (local $rowI i32) (local $coef f64) (local $inv f64) (local $at i32)
    (memory.fill (local.get $m) (i32.const 0) (i32.shl (i32.mul (local.get $n) (local.get $n)) (i32.const 3)))
    (block $doneI
      (loop $rowsI
        (br_if $doneI (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $rowI (i32.shl (i32.mul (local.get $i) (local.get $n)) (i32.const 3)))
        (local.set $k (i32.const 0))
        (block $doneK
          (loop $rowsK
            (br_if $doneK (i32.ge_s (local.get $k) (local.get $i)))
            (local.set $coef (f64.load (i32.add (local.get $l) (i32.add (local.get $rowI) (i32.shl (local.get $k) (i32.const 3))))))
            (if (f64.ne (local.get $coef) (f64.const 0))
              (then
                (call $subtractRow (i32.add (local.get $m) (local.get $rowI))
                  (i32.add (local.get $m) (i32.shl (i32.mul (local.get $k) (local.get $n)) (i32.const 3)))
                  (local.get $k) (local.get $coef))))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $rowsK)))
        (local.set $inv (f64.div (f64.const 1)
          (f64.load (i32.add (local.get $l) (i32.add (local.get $rowI) (i32.shl (local.get $i) (i32.const 3)))))))
        (local.set $j (i32.const 0))
        (block $doneScale
          (loop $scale
            (br_if $doneScale (i32.ge_s (local.get $j) (local.get $i)))
            (local.set $at (i32.add (local.get $m) (i32.add (local.get $rowI) (i32.shl (local.get $j) (i32.const 3)))))
            (f64.store (local.get $at) (f64.mul (f64.load (local.get $at)) (local.get $inv)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $scale)))
        (f64.store (i32.add (local.get $m) (i32.add (local.get $rowI) (i32.shl (local.get $i) (i32.const 3)))) (local.get $inv))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rowsI))))
)
