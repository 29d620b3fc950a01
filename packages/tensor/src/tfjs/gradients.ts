// Gradient definitions for tfjs-core kernels.
//
// Why this file exists: @tensorflow/tfjs-core 4.22 registers no gradients when imported on its own.
// Its gradient configs ship only as ESM files under dist/gradients/ (extensionless imports, no
// "type": "module"), which Node cannot load, and the union package @tensorflow/tfjs — which
// registers them — is not a dependency here. Without them `tf.variableGrads` fails with "gradient
// function not found for Add". The definitions below follow tfjs-core's own
// (src/gradients/*_grad.ts, Apache-2.0, Copyright Google LLC) and use only its public API.
// Kernels that already have a gradient (e.g. when @tensorflow/tfjs is loaded too) are left alone.
import {
  Abs, Add, AddN, AvgPool, AvgPoolGrad, BatchMatMul, BroadcastTo, Cast, Ceil, ClipByValue, Concat, Conv2D, Conv2DBackpropFilter,
  Conv2DBackpropInput, Cos, Cumsum, DepthwiseConv2dNative, DepthwiseConv2dNativeBackpropFilter, DepthwiseConv2dNativeBackpropInput,
  Elu, EluGrad, Erf, Exp, ExpandDims, Expm1, Floor, FusedBatchNorm, GatherV2, Identity, IsNan, LeakyRelu, Log, Log1p, LogSoftmax,
  Max, MaxPool, MaxPoolGrad, Maximum, Mean, Min, Minimum, MirrorPad, Multiply, Neg, OneHot, OnesLike, Pack, PadV2, Pow, Prelu,
  RealDiv, Reciprocal, Relu, Relu6, Reshape, Reverse, Round, Rsqrt, Select, Selu, Sigmoid, Sign, Sin, Slice, Softmax, Softplus,
  SplitV, Sqrt, Square, SquaredDifference, Step, Sub, Sum, Tanh, Tile, Transpose, Unpack, UnsortedSegmentSum, ZerosLike,
  add, backend_util, cast, concat, div, conv2d, cos, cumsum, engine, equal, exp, expandDims, fill, gather, getGradient, greater,
  greaterEqual, less, lessEqual, log, logicalAnd, logicalNot, matMul, maximum, mul, neg, ones, pad, pow, registerGradient,
  reshape, reverse, rsqrt, scalar, sigmoid, sin, slice, slice_util, split, sqrt, square, stack, step, sub, sum, tile, transpose,
  unsortedSegmentSum, unstack, util, where, zeros, zerosLike,
  type GradConfig, type NamedAttrMap, type Tensor,
} from '@tensorflow/tfjs-core';
import { reluGrad } from './fused-kernels.js';

type Der = () => Tensor;
type Grads = Record<string, Der> | Der[];
type Fn = (dy: Tensor, saved: Tensor[], attrs: NamedAttrMap) => Grads;

const { assertAndGetBroadcastShape, getReductionAxes, getUndoAxesPermutation, getAxesPermutation, expandShapeToKeepDim } = backend_util;

function cfg(kernelName: string, gradFunc: Fn, save: { inputs?: string[]; all?: boolean; outputs?: boolean[] } = {}): GradConfig {
  const c: GradConfig = { kernelName, gradFunc: gradFunc as unknown as GradConfig['gradFunc'] };
  if (save.inputs !== undefined) c.inputsToSave = save.inputs;
  if (save.all) c.saveAllInputs = true;
  if (save.outputs !== undefined) c.outputsToSave = save.outputs;
  return c;
}

/** Sums `g` over the axes broadcast from `shape` to `outShape` and reshapes it to `shape`. */
function unbroadcast(g: Tensor, shape: number[], outShape: number[]): Tensor {
  const axes = getReductionAxes(shape, outShape);
  return reshape(axes.length > 0 ? sum(g, axes) : g, shape);
}

const zeroGrad = (kernelName: string): GradConfig => cfg(kernelName, (dy) => ({ x: () => zerosLike(dy) }));

function binary(kernelName: string, da: (dy: Tensor, a: Tensor, b: Tensor) => Tensor, db: (dy: Tensor, a: Tensor, b: Tensor) => Tensor): GradConfig {
  return cfg(
    kernelName,
    (dy, [a, b]) => {
      const out = assertAndGetBroadcastShape(a!.shape, b!.shape);
      return { a: () => unbroadcast(da(dy, a!, b!), a!.shape, out), b: () => unbroadcast(db(dy, a!, b!), b!.shape, out) };
    },
    { inputs: ['a', 'b'] },
  );
}

function minMaxGrad(dy: Tensor, y: Tensor, x: Tensor, axes: number[]): Tensor {
  const yk = y.rank < x.rank ? reshape(y, expandShapeToKeepDim(y.shape, axes)) : y;
  const dyk = dy.rank < x.rank ? reshape(dy, expandShapeToKeepDim(dy.shape, axes)) : dy;
  return mul(dyk, cast(equal(x, yk), dy.dtype));
}

function gatherGrad(x: Tensor, indices: Tensor, dy: Tensor, axis: number): Tensor {
  const paramsShape = x.shape;
  const outerShape = paramsShape.slice(0, axis);
  const outerDims = outerShape.length;
  const innerShape = paramsShape.slice(axis + 1);
  const innerDims = innerShape.length;
  const outerAxes = Array.from({ length: outerDims }, (_, i) => i);
  const innerAxes = Array.from({ length: innerDims }, (_, i) => outerDims + 1 + i);
  const values = reshape(dy, [...outerShape, indices.size, ...innerShape]);
  const flatIndices = reshape(indices, [indices.size]);
  const perm = [outerDims, ...outerAxes, ...innerAxes];
  const summed = unsortedSegmentSum(transpose(values, perm), flatIndices as never, x.shape[axis]!);
  return transpose(summed, getUndoAxesPermutation(perm));
}

/**
 * Gradient of mirrorPad: the centre of dy plus the mirrored border slices folded back onto the
 * elements they copy (tfjs-core's own gradient keeps only the centre, which is wrong).
 */
function mirrorPadGrad(dy: Tensor, shape: number[], paddings: [number, number][], mode: string): Tensor {
  const off = mode === 'reflect' ? 1 : 0;
  let g = dy;
  shape.forEach((n, axis) => {
    const [p0, p1] = paddings[axis]!;
    if (p0 === 0 && p1 === 0) return;
    const at = (start: number, size: number): Tensor => {
      const begin = g.shape.map((_, i) => (i === axis ? start : 0));
      const sz = g.shape.map((d, i) => (i === axis ? size : d));
      return slice(g, begin, sz);
    };
    const pads = (before: number, after: number): [number, number][] => g.shape.map((_, i) => (i === axis ? [before, after] : [0, 0]));
    let acc = at(p0, n);
    if (p0 > 0) acc = add(acc, pad(reverse(at(0, p0), axis), pads(off, n - off - p0)));
    if (p1 > 0) acc = add(acc, pad(reverse(at(p0 + n, p1), axis), pads(n - off - p1, off)));
    g = acc;
  });
  return g;
}

const GRADIENTS: readonly GradConfig[] = [
  // element-wise binary
  binary(Add, (dy) => dy, (dy) => dy),
  binary(Sub, (dy) => dy, (dy) => neg(dy)),
  binary(Multiply, (dy, _a, b) => mul(dy, cast(b, 'float32')), (dy, a) => mul(dy, cast(a, 'float32'))),
  cfg(
    RealDiv,
    (dy, [a, b]) => {
      const out = assertAndGetBroadcastShape(a!.shape, b!.shape);
      return {
        a: () => unbroadcast(div(dy, cast(b!, 'float32')), a!.shape, out),
        b: () => neg(div(unbroadcast(mul(dy, cast(a!, 'float32')), b!.shape, out), cast(square(b!), 'float32'))),
      };
    },
    { inputs: ['a', 'b'] },
  ),
  // (tfjs-core's own Maximum/Minimum/SquaredDifference gradients do not reduce over broadcast axes)
  binary(Maximum, (dy, a, b) => mul(dy, cast(greaterEqual(a, b), 'float32')), (dy, a, b) => mul(dy, cast(less(a, b), 'float32'))),
  binary(Minimum, (dy, a, b) => mul(dy, cast(lessEqual(a, b), 'float32')), (dy, a, b) => mul(dy, cast(greater(a, b), 'float32'))),
  cfg(
    Pow,
    (dy, [a, b, y]) => {
      const out = assertAndGetBroadcastShape(a!.shape, b!.shape);
      return {
        a: () => {
          const e = cast(b!, 'float32');
          return unbroadcast(mul(dy, mul(e, pow(a!, sub(e, scalar(1))))), a!.shape, out);
        },
        b: () => unbroadcast(mul(dy, mul(y!, where(greater(a!, 0), log(a!), zerosLike(a!)))), b!.shape, out),
      };
    },
    { inputs: ['a', 'b'], outputs: [true] },
  ),
  binary(SquaredDifference, (dy, a, b) => mul(dy, mul(scalar(2), sub(a, b))), (dy, a, b) => mul(dy, mul(scalar(2), sub(b, a)))),
  cfg(AddN, (dy, saved) => saved.map(() => () => dy.clone()), { all: true }),
  // element-wise unary
  cfg(Neg, (dy) => ({ x: () => neg(dy) })),
  cfg(Abs, (dy, [x]) => ({ x: () => mul(dy, step(cast(x!, 'float32'), -1)) }), { inputs: ['x'] }),
  cfg(Exp, (dy, [y]) => ({ x: () => mul(dy, y!) }), { outputs: [true] }),
  cfg(Expm1, (dy, [x]) => ({ x: () => mul(dy, exp(x!)) }), { inputs: ['x'] }),
  cfg(Log, (dy, [x]) => ({ x: () => div(dy, cast(x!, 'float32')) }), { inputs: ['x'] }),
  cfg(Log1p, (dy, [x]) => ({ x: () => div(dy, add(x!, 1)) }), { inputs: ['x'] }),
  cfg(Sqrt, (dy, [x]) => ({ x: () => div(dy, mul(sqrt(cast(x!, 'float32')), 2)) }), { inputs: ['x'] }),
  cfg(Rsqrt, (dy, [x]) => ({ x: () => neg(div(dy, mul(pow(x!, 1.5), 2))) }), { inputs: ['x'] }),
  cfg(Square, (dy, [x]) => ({ x: () => mul(dy, mul(cast(x!, 'float32'), 2)) }), { inputs: ['x'] }),
  cfg(Reciprocal, (dy, [x]) => ({ x: () => div(dy, neg(square(x!))) }), { inputs: ['x'] }),
  cfg(Sigmoid, (dy, [y]) => ({ x: () => mul(dy, mul(y!, sub(scalar(1), y!))) }), { outputs: [true] }),
  cfg(Tanh, (dy, [y]) => ({ x: () => mul(sub(scalar(1), square(y!)), dy) }), { outputs: [true] }),
  cfg(Relu, (dy, [x]) => ({ x: () => reluGrad(dy, x!) }), { inputs: ['x'] }), // mul(dy, step(x)), one kernel where registered
  cfg(Relu6, (dy, [x]) => ({ x: () => mul(dy, cast(mul(lessEqual(x!, 6), step(x!, 0)), 'float32')) }), { inputs: ['x'] }),
  cfg(Elu, (dy, [y]) => ({ x: () => engine().runKernel(EluGrad, { dy, y: y! }) }), { outputs: [true] }),
  cfg(
    Selu,
    (dy, [x]) => ({
      x: () => where(greater(x!, scalar(0)), mul(dy, scalar(backend_util.SELU_SCALE)), mul(mul(dy, scalar(backend_util.SELU_SCALEALPHA)), exp(cast(x!, 'float32')))),
    }),
    { inputs: ['x'] },
  ),
  cfg(LeakyRelu, (dy, [x], attrs) => ({ x: () => where(greater(x!, 0), dy, mul(dy, attrs.alpha as number)) }), { inputs: ['x'] }),
  cfg(
    Prelu,
    (dy, [x, alpha]) => {
      const mask = greater(x!, 0);
      return {
        x: () => where(mask, dy, mul(dy, alpha!)),
        alpha: () => unbroadcast(where(mask, zerosLike(dy), mul(dy, x!)), alpha!.shape, dy.shape),
      };
    },
    { inputs: ['x', 'alpha'] },
  ),
  cfg(Softplus, (dy, [x]) => ({ x: () => mul(dy, sigmoid(x!)) }), { inputs: ['x'] }),
  cfg(Erf, (dy, [x]) => ({ x: () => mul(dy, mul(exp(neg(square(x!))), 2 / Math.sqrt(Math.PI))) }), { inputs: ['x'] }),
  cfg(Sin, (dy, [x]) => ({ x: () => mul(cos(cast(x!, 'float32')), dy) }), { inputs: ['x'] }),
  cfg(Cos, (dy, [x]) => ({ x: () => mul(neg(sin(cast(x!, 'float32'))), dy) }), { inputs: ['x'] }),
  cfg(
    ClipByValue,
    (dy, [x], attrs) => ({
      x: () => where(logicalAnd(greaterEqual(x!, attrs.clipValueMin as number), lessEqual(x!, attrs.clipValueMax as number)), dy, zerosLike(dy)),
    }),
    { inputs: ['x'] },
  ),
  cfg(Cast, (dy) => ({ x: () => dy.clone() })),
  cfg(Identity, (dy) => ({ x: () => cast(dy, 'float32') })),
  zeroGrad(Step),
  zeroGrad(Sign),
  zeroGrad(Floor),
  zeroGrad(Ceil),
  zeroGrad(Round),
  zeroGrad(IsNan),
  zeroGrad(ZerosLike),
  zeroGrad(OnesLike),
  cfg(OneHot, (_dy, [indices]) => ({ indices: () => zeros(indices!.shape, 'float32') }), { inputs: ['indices'] }),
  cfg(
    Select,
    (dy, [condition]) => ({
      condition: () => cast(zerosLike(condition!), 'float32'),
      t: () => mul(dy, cast(condition!, dy.dtype)),
      e: () => mul(dy, cast(logicalNot(condition!), dy.dtype)),
    }),
    { inputs: ['condition'] },
  ),
  // reductions
  cfg(
    Sum,
    (dy, [x], attrs) => {
      const shape = x!.shape.slice();
      for (const a of util.parseAxisParam(attrs.axis as number | number[], x!.shape)) shape[a] = 1;
      // the ones come from the backend's Fill kernel (tfjs' ones() builds them in JS and uploads them)
      return { x: () => mul(reshape(dy, shape), fill(x!.shape, 1, 'float32')) };
    },
    { inputs: ['x'] },
  ),
  cfg(
    Mean,
    (dy, [x], attrs) => {
      const axes = util.parseAxisParam(attrs.axis as number | number[], x!.shape);
      const reduceSize = util.sizeFromShape(backend_util.computeOutAndReduceShapes(x!.shape, axes)[1]);
      const shape = x!.shape.slice();
      for (const a of axes) shape[a] = 1;
      return { x: () => div(mul(reshape(dy, shape), fill(x!.shape, 1, 'float32')), scalar(reduceSize)) };
    },
    { inputs: ['x'] },
  ),
  cfg(Max, (dy, [x, y], attrs) => ({ x: () => minMaxGrad(dy, y!, x!, util.parseAxisParam(attrs.reductionIndices as number | number[], x!.shape)) }), { inputs: ['x'], outputs: [true] }),
  cfg(Min, (dy, [x, y], attrs) => ({ x: () => minMaxGrad(dy, y!, x!, util.parseAxisParam(attrs.axis as number | number[], x!.shape)) }), { inputs: ['x'], outputs: [true] }),
  cfg(
    Cumsum,
    (dy, [x], attrs) => ({
      x: () => {
        const axis = attrs.axis as number;
        const perm = getAxesPermutation([axis], x!.rank);
        const out = cumsum(dy, axis, attrs.exclusive as boolean, !(attrs.reverse as boolean));
        return perm === null ? out : transpose(out, perm);
      },
    }),
    { inputs: ['x'] },
  ),
  // shapes and indexing
  cfg(Reshape, (dy, [x]) => ({ x: () => reshape(dy, x!.shape) }), { inputs: ['x'] }),
  cfg(ExpandDims, (dy, [input]) => ({ input: () => reshape(dy, input!.shape) }), { inputs: ['input'] }),
  cfg(Transpose, (dy, _s, attrs) => ({ x: () => transpose(dy, getUndoAxesPermutation(attrs.perm as number[])) })),
  cfg(
    Concat,
    (dy, saved, attrs) => {
      const axis = util.parseAxisParam(attrs.axis as number, saved[0]!.shape)[0]!;
      return split(dy, saved.map((t) => t.shape[axis]!), axis).map((t) => () => t);
    },
    { all: true },
  ),
  cfg(SplitV, (dy, _s, attrs) => ({ x: () => concat(dy as unknown as Tensor[], attrs.axis as number) })),
  cfg(Pack, (dy, _s, attrs) => unstack(dy, attrs.axis as number).map((t) => () => t), { all: true }),
  cfg(Unpack, (dy, _s, attrs) => ({ value: () => stack(dy as unknown as Tensor[], attrs.axis as number) })),
  cfg(
    Slice,
    (dy, [x], attrs) => {
      const [begin, size] = slice_util.parseSliceParams(x!, attrs.begin as number[], attrs.size as number[]);
      return { x: () => pad(dy, x!.shape.map((d, i) => [begin![i]!, d - begin![i]! - size![i]!] as [number, number])) };
    },
    { inputs: ['x'] },
  ),
  cfg(PadV2, (dy, [x], attrs) => ({ x: () => slice(dy, (attrs.paddings as [number, number][]).map((p) => p[0]), x!.shape) }), { inputs: ['x'] }),
  cfg(MirrorPad, (dy, [x], attrs) => ({ x: () => mirrorPadGrad(dy, x!.shape, attrs.paddings as [number, number][], attrs.mode as string) }), { inputs: ['x'] }),
  cfg(
    Tile,
    (dy, [x], attrs) => ({
      // dy has shape reps_i * x_i per axis: view it as [reps_0, x_0, reps_1, x_1, ...] and sum the reps axes
      x: () => {
        const reps = attrs.reps as number[];
        const view = x!.shape.flatMap((d, i) => [reps[i]!, d]);
        return sum(reshape(dy, view), x!.shape.map((_, i) => 2 * i));
      },
    }),
    { inputs: ['x'] },
  ),
  cfg(Reverse, (dy, _s, attrs) => ({ x: () => reverse(dy, util.parseAxisParam(attrs.dims as number | number[], dy.shape)) })),
  cfg(BroadcastTo, (dy, _s, attrs) => {
    const inputShape = attrs.inputShape as number[];
    const outShape = attrs.shape as number[];
    const offset = outShape.length - inputShape.length;
    const axes: number[] = [];
    for (let i = 0; i < outShape.length; i++) if (i < offset || (inputShape[i - offset] === 1 && outShape[i]! > 1)) axes.push(i);
    return { x: () => reshape(axes.length > 0 ? sum(dy, axes, true) : dy, inputShape) };
  }),
  cfg(
    GatherV2,
    (dy, [x, indices], attrs) => {
      const axis = util.parseAxisParam(attrs.axis as number, x!.shape)[0]!;
      if ((attrs.batchDims as number | undefined ?? 0) !== 0) throw new Error('gradient of gather with batchDims > 0 is not supported');
      return { x: () => gatherGrad(x!, indices!, dy, axis), indices: () => indices! };
    },
    { inputs: ['x', 'indices'] },
  ),
  cfg(
    UnsortedSegmentSum,
    (dy, [segmentIds]) => ({
      x: () => {
        const ids = segmentIds!;
        const gathered = gather(dy, maximum(ids, zerosLike(ids)));
        let isPositive = greaterEqual(ids, scalar(0, 'int32'));
        for (let i = 0; i < gathered.rank - ids.rank; i++) isPositive = expandDims(isPositive, i + 1);
        return where(logicalAnd(isPositive, ones(gathered.shape, 'bool')), gathered, zerosLike(gathered));
      },
    }),
    { inputs: ['segmentIds'] },
  ),
  // linear algebra and convolutions
  cfg(
    BatchMatMul,
    (dy, [a, b], attrs) => {
      const tA = attrs.transposeA as boolean;
      const tB = attrs.transposeB as boolean;
      if (!tA && !tB) return { a: () => matMul(dy, b!, false, true), b: () => matMul(a!, dy, true, false) };
      if (!tA && tB) return { a: () => matMul(dy, b!, false, false), b: () => matMul(dy, a!, true, false) };
      if (tA && !tB) return { a: () => matMul(b!, dy, false, true), b: () => matMul(a!, dy, false, false) };
      return { a: () => matMul(b!, dy, true, true), b: () => matMul(dy, a!, true, true) };
    },
    { inputs: ['a', 'b'] },
  ),
  cfg(
    Conv2D,
    (dy, [x, filter], attrs) => {
      const { dilations, strides, pad: padding, dataFormat } = attrs;
      util.assert(backend_util.tupleValuesAreOne(dilations as [number, number]), () => `gradient of conv2d: dilations > 1 are not supported, got ${JSON.stringify(dilations)}`);
      return {
        x: () => engine().runKernel(Conv2DBackpropInput, { dy, filter: filter! }, { strides, pad: padding, dataFormat, inputShape: x!.shape } as NamedAttrMap),
        filter: () => engine().runKernel(Conv2DBackpropFilter, { x: x!, dy }, { strides, pad: padding, dataFormat, filterShape: filter!.shape } as NamedAttrMap),
      };
    },
    { inputs: ['x', 'filter'] },
  ),
  cfg(
    Conv2DBackpropInput,
    (ddx, [dy, filter], attrs) => {
      const { strides, pad: padding, dataFormat, dimRoundingMode } = attrs;
      return {
        dy: () => conv2d(ddx as never, filter as never, strides as [number, number], padding as 'same', dataFormat as 'NHWC', 1, dimRoundingMode as 'round'),
        filter: () => engine().runKernel(Conv2DBackpropFilter, { x: ddx, dy: dy! }, { strides, pad: padding, dataFormat, dimRoundingMode, filterShape: filter!.shape } as NamedAttrMap),
      };
    },
    { inputs: ['dy', 'filter'] },
  ),
  cfg(
    DepthwiseConv2dNative,
    (dy, [x, filter], attrs) => {
      const { strides, pad: padding, dimRoundingMode } = attrs;
      const dilations = (attrs.dilations ?? [1, 1]) as [number, number];
      util.assert(backend_util.tupleValuesAreOne(dilations), () => `gradient of depthwiseConv2d: dilations > 1 are not supported, got ${String(dilations)}`);
      return {
        x: () => engine().runKernel(DepthwiseConv2dNativeBackpropInput, { dy, filter: filter! }, { strides, pad: padding, dimRoundingMode, dilations, inputShape: x!.shape } as NamedAttrMap),
        filter: () => engine().runKernel(DepthwiseConv2dNativeBackpropFilter, { x: x!, dy }, { strides, pad: padding, dimRoundingMode, dilations, filterShape: filter!.shape } as NamedAttrMap),
      };
    },
    { inputs: ['x', 'filter'] },
  ),
  cfg(
    MaxPool,
    (dy, [x, y], attrs) => ({
      x: () => engine().runKernel(MaxPoolGrad, { dy, input: x!, output: y! }, { filterSize: attrs.filterSize, strides: attrs.strides, pad: attrs.pad, dimRoundingMode: attrs.dimRoundingMode } as NamedAttrMap),
    }),
    { inputs: ['x'], outputs: [true] },
  ),
  cfg(
    AvgPool,
    (dy, [x], attrs) => ({
      x: () => engine().runKernel(AvgPoolGrad, { dy, input: x! }, { filterSize: attrs.filterSize, strides: attrs.strides, pad: attrs.pad } as NamedAttrMap),
    }),
    { inputs: ['x'] },
  ),
  cfg(
    FusedBatchNorm,
    (dy, [x, mean, variance, scale], attrs) => {
      const scaleValue = scale ?? scalar(1);
      const axes = getReductionAxes(mean!.shape, x!.shape);
      const tileShape: number[] = [];
      if (mean!.rank === 1) {
        for (let i = 0; i < x!.shape.length - 1; ++i) tileShape.push(x!.shape[i]!);
        tileShape.push(1);
      }
      const xMinusMean = sub(x!, mean!);
      const dyScaled = mul(dy, scaleValue);
      const rstd = rsqrt(add(variance!, scalar(attrs.varianceEpsilon as number)));
      const minusHalfRCube = mul(mul(mul(rstd, rstd), rstd), scalar(-0.5));
      const reduce = (t: Tensor): Tensor => reshape(mean!.rank === 1 ? sum(t, axes) : t, mean!.shape);
      return {
        x: () =>
          mean!.rank === 1
            ? reshape(mul(mul(dy, tile(reshape(rstd, [1, 1, 1, mean!.shape[0]!]), tileShape)), scaleValue), x!.shape)
            : reshape(mul(mul(dy, rstd), scaleValue), x!.shape),
        mean: () => reduce(mul(mul(rstd, scalar(-1)), dyScaled)),
        variance: () => reduce(mul(mul(minusHalfRCube, xMinusMean), dyScaled)),
        scale: () => reduce(mul(dy, mul(xMinusMean, rstd))),
        offset: () => reduce(dy),
      };
    },
    { inputs: ['x', 'mean', 'variance', 'scale'] },
  ),
  cfg(
    Softmax,
    (dy, [y], attrs) => {
      const dyTimesY = mul(dy, y!);
      return { logits: () => sub(dyTimesY, mul(sum(dyTimesY, [attrs.dim as number], true), y!)) };
    },
    { outputs: [true] },
  ),
  cfg(LogSoftmax, (dy, [value], attrs) => ({ logits: () => sub(dy, mul(sum(dy, attrs.axis as number, true), exp(value!))) }), { inputs: [], outputs: [true] }),
];

let registered = false;

/**
 * Registers gradients for the tfjs-core kernels used in training (element-wise math, reductions,
 * reshapes, gather, matMul, conv2d, depthwise conv, pooling, batch norm, softmax, ...), skipping
 * kernels that already have one. Idempotent; `train` calls it. Returns the kernels registered by
 * this call.
 *
 * tfjs-core on its own registers no gradients (the union package `@tensorflow/tfjs` does), so
 * code that calls `tf.grad`/`tf.variableGrads` outside `train` should call this first.
 *
 * @example
 * ```ts
 * import { registerGradients } from '@basis/tensor';
 * registerGradients();
 * const g = tf.grad((x: tf.Tensor) => tf.sum(tf.square(x)))(tf.tensor1d([1, 2])); // [2, 4]
 * ```
 */
export function registerGradients(): string[] {
  if (registered) return [];
  const added: string[] = [];
  for (const c of GRADIENTS) {
    if (getGradient(c.kernelName) !== undefined && getGradient(c.kernelName) !== null) continue;
    registerGradient(c);
    added.push(c.kernelName);
  }
  registered = true;
  return added;
}
