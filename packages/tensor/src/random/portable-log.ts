// A natural logarithm built from IEEE-754 basic operations only (+, -, *, / and bit access), so
// it gives bit-identical results on every JavaScript engine. Math.log is not specified to be
// correctly rounded and differs between engines in the last bit, which would make seeded normal
// draws platform-dependent. The algorithm is the classic fdlibm/musl `log` (argument reduction to
// [sqrt(2)/2, sqrt(2)], then a degree-14 minimax polynomial in s = f / (2 + f)), written anew.

const LN2_HI = 6.93147180369123816490e-1;
const LN2_LO = 1.90821492927058770002e-10;
const LG1 = 6.666666666666735130e-1;
const LG2 = 3.999999999940941908e-1;
const LG3 = 2.857142874366239149e-1;
const LG4 = 2.222219843214978396e-1;
const LG5 = 1.818357216161805012e-1;
const LG6 = 1.531383769920937332e-1;
const LG7 = 1.479819860511658591e-1;

const view = new DataView(new ArrayBuffer(8));

/** ln(x) for finite x > 0, bit-identical across engines (accurate to < 1 ulp). */
export function portableLog(x: number): number {
  if (!(x > 0)) return x === 0 ? -Infinity : NaN;
  if (x === Infinity) return Infinity;
  view.setFloat64(0, x);
  let hx = view.getUint32(0);
  let k = 0;
  if (hx < 0x00100000) {
    // subnormal: scale up by 2^54
    k -= 54;
    view.setFloat64(0, x * 18014398509481984);
    hx = view.getUint32(0);
  }
  k += (hx >>> 20) - 1023;
  hx &= 0x000fffff;
  const i = (hx + 0x95f64) & 0x100000;
  // normalise x (or x/2) into [sqrt(2)/2, sqrt(2))
  view.setUint32(0, hx | (i ^ 0x3ff00000));
  k += i >>> 20;
  const f = view.getFloat64(0) - 1;
  const hfsq = 0.5 * f * f;
  const s = f / (2 + f);
  const z = s * s;
  const w = z * z;
  const t1 = w * (LG2 + w * (LG4 + w * LG6));
  const t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
  const R = t2 + t1;
  const dk = k;
  return s * (hfsq + R) + dk * LN2_LO - hfsq + f + dk * LN2_HI;
}
