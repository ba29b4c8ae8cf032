// TensorFlow.js model and Adam optimizer as checkpoint parts: objects with
// getState()/setState() that PipelineCheckpoint saves beside the DataLoader.
//
// Two tfjs details decide whether a resumed run matches an uninterrupted one
// bit for bit:
// - optimizer.getWeights() is async, but a part's getState() is synchronous
//   (a save, and saveOnSignal, capture the state at the moment they are
//   called), so the optimizer's variables are read directly;
// - Adam.setWeights() recomputes the bias-correction powers as beta^(t+1),
//   while training keeps them as a running product: the two differ in the
//   last bits of a float32. So the running products (accBeta1, accBeta2) are
//   saved and set as they are, with the moments m and v and the step count.
import * as tf from '@tensorflow/tfjs';
import type { State } from '../src/index.js';

/** The model's weights, in model.getWeights() order, as Float32Arrays with their shapes. */
export function modelPart(model: tf.LayersModel) {
  return {
    getState(): State {
      const weights = model.getWeights();
      return { shapes: weights.map((w) => Float64Array.from(w.shape)), values: weights.map((w) => w.dataSync() as Float32Array) };
    },
    setState(state: State): void {
      const s = state as { shapes?: unknown; values?: unknown };
      const current = model.getWeights();
      const values = checkArrays(s.values, current.map((w) => w.size), 'model.values');
      // All checked before anything changes; setWeights checks the shapes again.
      tf.tidy(() => model.setWeights(values.map((v, i) => tf.tensor(v, current[i]!.shape, 'float32'))));
    },
  };
}

/** What tf.train.adam keeps between steps (fields of AdamOptimizer that its .d.ts marks private). */
interface AdamInternals {
  iterations_: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
}

/** Adam's complete state: step count, bias-correction products, first and second moments. */
export function adamPart(optimizer: tf.AdamOptimizer, model: tf.LayersModel) {
  const adam = optimizer as unknown as AdamInternals;
  const scalarOf = (v: tf.Variable) => Float32Array.from(v.dataSync() as Float32Array);
  return {
    getState(): State {
      return {
        iterations: optimizer.iterations,
        accBeta1: scalarOf(adam.accBeta1),
        accBeta2: scalarOf(adam.accBeta2),
        names: adam.accumulatedFirstMoment.map((m) => m.originalName),
        m: adam.accumulatedFirstMoment.map((m) => m.variable.dataSync() as Float32Array),
        v: adam.accumulatedSecondMoment.map((v) => v.variable.dataSync() as Float32Array),
      };
    },
    setState(state: State): void {
      const s = state as Record<string, unknown>;
      if (typeof s.iterations !== 'number' || !Number.isSafeInteger(s.iterations) || s.iterations < 0) {
        throw new TypeError('optimizer.iterations must be an integer >= 0');
      }
      const [accBeta1] = checkArrays([s.accBeta1], [1], 'optimizer.accBeta1');
      const [accBeta2] = checkArrays([s.accBeta2], [1], 'optimizer.accBeta2');
      const names = s.names;
      if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) throw new TypeError('optimizer.names must be an array of strings');
      // Moments exist once Adam has taken a step: one per trainable weight, in the model's order.
      const trainable = model.trainableWeights.map((w) => w.read());
      const sizes = names.length === 0 ? [] : trainable.map((w) => w.size);
      const m = checkArrays(s.m, sizes, 'optimizer.m');
      const v = checkArrays(s.v, sizes, 'optimizer.v');
      const shapes = trainable.map((w) => w.shape);
      // Everything is checked: now replace Adam's state.
      tf.dispose([...adam.accumulatedFirstMoment.map((x) => x.variable), ...adam.accumulatedSecondMoment.map((x) => x.variable)]);
      adam.accumulatedFirstMoment = m.map((data, i) => ({ originalName: names[i] as string, variable: tf.variable(tf.tensor(data, shapes[i]), false) }));
      adam.accumulatedSecondMoment = v.map((data, i) => ({
        originalName: (names[i] as string).replace(/\/m$/, '/v'),
        variable: tf.variable(tf.tensor(data, shapes[i]), false),
      }));
      tf.tidy(() => {
        adam.accBeta1.assign(tf.tensor(accBeta1!, []));
        adam.accBeta2.assign(tf.tensor(accBeta2!, []));
      });
      adam.iterations_ = s.iterations;
    },
  };
}

/** Float32Arrays of the given lengths, or a TypeError naming `name`. */
function checkArrays(value: unknown, lengths: readonly number[], name: string): Float32Array[] {
  if (!Array.isArray(value) || value.length !== lengths.length) throw new TypeError(`${name} must be an array of ${lengths.length} Float32Arrays`);
  value.forEach((a, i) => {
    if (!(a instanceof Float32Array) || a.length !== lengths[i]) throw new TypeError(`${name}[${i}] must be a Float32Array of ${lengths[i]} elements`);
  });
  return value as Float32Array[];
}
