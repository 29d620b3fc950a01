import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { createRng } from '../index.js';
import { selectBackend } from './backend.js';
import { batchNormTrain } from './fused-kernels.js';
import { registerGradients } from './gradients.js';

// A tensor made on another backend reaches a wasm kernel unmoved: tfjs moves it on the backend's
// first look-up of its data, which may grow the WebAssembly heap. basis' kernels (native products
// and reductions, the kernel fixes, the fused kernels) make their inputs resident before taking
// heap views; before, a move that grew the heap left the kernel a view of the detached buffer (a
// TypeError from typedArrayFromHeap). Each input here is larger than the heap, so its move grows it.
// Runs on the engine found (native BLAS kernels) and under BASIS_BLAS=off (test:wasm).

beforeAll(async () => {
  registerGradients();
  await selectBackend('wasm');
});

function heapFloats(): number {
  return (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength / 4;
}

function values(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

interface Heap {
  dataIdMap: { has(dataId: object): boolean };
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

describe('inputs made on another backend', () => {
  it('a bias added to rows larger than the heap: moved while the kernel runs, the same values as a resident input', async () => {
    await selectBackend('wasm');
    const rows = Math.ceil((heapFloats() + 2 ** 18) / 16);
    const v = values(rows * 16, 1);
    const bias = values(16, 2);
    await tf.setBackend('cpu');
    const x = tf.tensor(v, [rows, 16]);
    await selectBackend('wasm');
    const before = heapFloats();
    const b = tf.tensor(bias);
    const y = tf.add(x, b);
    const moved = (y.dataSync() as Float32Array).slice(); // (not returned from tf.tidy, which walks a returned array element by element)
    expect(heapFloats()).toBeGreaterThan(before); // the move grew the heap
    const resident = tf.tensor(v, [rows, 16]);
    const z = tf.add(resident, b);
    const want = z.dataSync() as Float32Array;
    let same = 0;
    for (let i = 0; i < want.length; i++) if (moved[i] === want[i]) same++;
    expect(same).toBe(want.length);
    tf.dispose([x, b, y, resident, z]);
  });

  // every heap view a kernel takes is of a resident tensor (a move after the view could detach it)
  const cases: [string, number[], (x: tf.Tensor) => tf.Tensor][] = [
    ['Sum over leading axes (a bias gradient)', [8, 8, 16], (x) => tf.sum(x, [0, 1])],
    ['Conv2D, 3x3 same', [2, 8, 8, 16], (x) => tf.conv2d(x as tf.Tensor4D, tf.ones([3, 3, 16, 4]) as tf.Tensor4D, 1, 'same')],
    ['batchnorm training (fused)', [64, 16], (x) => batchNormTrain(x, tf.ones([16]), tf.zeros([16]), 1e-5).y],
    ['relu gradient and max-pool gradient', [2, 8, 8, 16], (x) => tf.grad((t: tf.Tensor) => tf.sum(tf.maxPool(tf.relu(t) as tf.Tensor4D, 2, 2, 'valid')))(x)],
  ];
  for (const [name, shape, op] of cases) {
    it(`${name}: views only of resident inputs, the same values as resident inputs`, async () => {
      const v = values(shape.reduce((a, b) => a * b, 1), 3);
      await tf.setBackend('cpu');
      const x = tf.tensor(v, shape);
      await selectBackend('wasm');
      const backend = tf.backend() as unknown as Heap;
      const view = backend.typedArrayFromHeap.bind(backend);
      let strays = 0;
      backend.typedArrayFromHeap = (t) => {
        if (!backend.dataIdMap.has(t.dataId)) strays++;
        return view(t);
      };
      let moved: Float32Array;
      try {
        moved = tf.tidy(() => (op(x).dataSync() as Float32Array).slice());
      } finally {
        delete (backend as Partial<Heap>).typedArrayFromHeap;
      }
      expect(strays).toBe(0);
      const want = tf.tidy(() => (op(tf.tensor(v, shape)).dataSync() as Float32Array).slice());
      expect(Array.from(moved)).toEqual(Array.from(want));
      x.dispose();
    });
  }
});
