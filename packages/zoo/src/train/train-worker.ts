// Worker thread of the training pool (`TrainPool` in `@basis/zoo/node`): configures the compute
// engine (the pool's provider, its share of the thread budget) and selects its own tfjs backend
// once, then trains the jobs it is sent one at a time, streaming progress events back. Datasets
// arrive with their arrays in shared memory (not copied).
import { parentPort } from 'node:worker_threads';
import { configureEngine } from '@basis/tensor';
import { selectBackend } from '@basis/tensor/backend';
import { toWireError } from '@basis/tensor/node';
import type { TrainProgress } from './loop.js';
import { trainModelResumable } from './train-model-node.js';
import type { FromTrainWorker, ToTrainWorker, WireJob, WireResult } from './train-job.js';
import { trainModel } from './train-model.js';
import { TrainSettingsSchema } from './train-settings.js';
import { markParsed } from '@basis/tensor';

const port = parentPort;
if (port === null) throw new Error('train-worker must run in a worker thread');

async function runJob(id: number, job: WireJob): Promise<void> {
  const ctl = new AbortController();
  try {
    const onProgress = (event: TrainProgress): void => {
      if (event.kind !== 'step' || job.steps) port!.postMessage({ type: 'progress', id, event } satisfies FromTrainWorker);
      if (Atomics.load(job.abort, 0) !== 0) ctl.abort();
    };
    if (Atomics.load(job.abort, 0) !== 0) ctl.abort();
    const common = {
      graph: job.graph,
      train: job.train,
      ...(job.test === undefined ? {} : { test: job.test }),
      // parsed by TrainPool.run in the calling thread (this is its structured clone)
      recipe: markParsed(TrainSettingsSchema, job.recipe),
      ...(job.initial === undefined ? {} : { initial: job.initial }),
      ...(job.maxSteps === undefined ? {} : { maxSteps: job.maxSteps }),
      onProgress,
      signal: ctl.signal,
    };
    const result: WireResult =
      job.runDir === undefined
        ? await trainModel({ ...common, ...(job.start === undefined ? {} : { start: job.start }) })
        : await trainModelResumable({ ...common, runDir: job.runDir, ...(job.meta === undefined ? {} : { meta: job.meta }), ...(job.start === undefined ? {} : { start: job.start }) });
    const transfer = Object.values(result.params).map((p) => p.data.buffer as ArrayBuffer);
    port!.postMessage({ type: 'done', id, result } satisfies FromTrainWorker, transfer);
  } catch (e) {
    port!.postMessage({ type: 'error', id, ...toWireError(e) } satisfies FromTrainWorker);
  }
}

let queue: Promise<void> = Promise.resolve();

port.on('message', (msg: ToTrainWorker) => {
  if (msg.type === 'init') {
    // before any kernel runs: the engine's first use would otherwise claim every core
    const engine = msg.engine;
    Promise.resolve()
      .then(() => configureEngine(engine))
      .then(() => selectBackend(msg.backend))
      .then(
        (backend) => port.postMessage({ type: 'ready', backend, engine } satisfies FromTrainWorker),
        (e: unknown) => port.postMessage({ type: 'init-error', ...toWireError(e) } satisfies FromTrainWorker),
      );
    return;
  }
  // one job at a time per worker (one backend, one thread)
  queue = queue.then(() => runJob(msg.id, msg.job));
});
