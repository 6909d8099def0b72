/**
 * Unit tests of the CPU float64 references (src/reference). Three kinds of checks: values worked
 * out by hand (bias corrections, first steps, schedules, zero-norm rules), multi-step
 * trajectories against small textbook loops written independently here, and generic contracts
 * (g untouched, step counted, state names).
 */
import { describe, expect, it } from 'vitest';
import {
  adadeltaReference,
  adagradReference,
  adamaxReference,
  adamBiasCorrections,
  adamReference,
  adamwReference,
  clipGradNormReference,
  clipGradValueReference,
  lambReference,
  larsReference,
  lionReference,
  nadamMu,
  nadamReference,
  radamRectification,
  radamReference,
  references,
  adoptReference,
  adafactorReference,
  muonLrRatio,
  newtonSchulz,
  scheduleFreeEval,
  scheduleFreeStep,
  scheduleFreeTrain,
  sgdScheduleFreeReference,
  rmspropReference,
  sgdReference,
  type AdadeltaOptions,
  type AdagradOptions,
  type AdamaxOptions,
  type AdamOptions,
  type LAMBOptions,
  type LARSOptions,
  type LionOptions,
  type NAdamOptions,
  type RAdamOptions,
  type ReferenceName,
  type ReferenceOptimizer,
  type ReferenceState,
  type RMSpropOptions,
  type SGDOptions,
} from '../../src/reference/index.ts';
import { optimizerSpecs } from '../../src/optimizers/registry.ts';

// Defaults of CONVENTIONS.md, fully resolved (LARS has no default lr; 0.1 here).
const sgd: SGDOptions = {
  lr: 1e-3,
  momentum: 0,
  dampening: 0,
  nesterov: false,
  weightDecay: 0,
  maximize: false,
};
const adam: AdamOptions = {
  lr: 1e-3,
  betas: [0.9, 0.999],
  eps: 1e-8,
  weightDecay: 0,
  amsgrad: false,
  maximize: false,
};
const adamw: AdamOptions = { ...adam, weightDecay: 1e-2 };
const adagrad: AdagradOptions = {
  lr: 1e-2,
  lrDecay: 0,
  weightDecay: 0,
  initialAccumulatorValue: 0,
  eps: 1e-10,
  maximize: false,
  epsInsideSqrt: false,
};
const adadelta: AdadeltaOptions = { lr: 1, rho: 0.9, eps: 1e-6, weightDecay: 0, maximize: false };
const rmsprop: RMSpropOptions = {
  lr: 1e-2,
  alpha: 0.99,
  eps: 1e-8,
  weightDecay: 0,
  momentum: 0,
  centered: false,
  maximize: false,
  epsInsideSqrt: false,
};
const adamax: AdamaxOptions = {
  lr: 2e-3,
  betas: [0.9, 0.999],
  eps: 1e-8,
  weightDecay: 0,
  maximize: false,
};
const nadam: NAdamOptions = {
  lr: 2e-3,
  betas: [0.9, 0.999],
  eps: 1e-8,
  weightDecay: 0,
  momentumDecay: 4e-3,
  maximize: false,
};
const radam: RAdamOptions = {
  lr: 1e-3,
  betas: [0.9, 0.999],
  eps: 1e-8,
  weightDecay: 0,
  maximize: false,
};
const lion: LionOptions = { lr: 1e-4, betas: [0.9, 0.99], weightDecay: 0, maximize: false };
const lamb: LAMBOptions = {
  lr: 1e-3,
  betas: [0.9, 0.999],
  eps: 1e-6,
  weightDecay: 0.01,
  maximize: false,
};
const lars: LARSOptions = {
  lr: 0.1,
  momentum: 0.9,
  weightDecay: 0,
  trustCoefficient: 1e-3,
  maximize: false,
};

/** Runs a reference over a gradient sequence; returns the final p, the state and p after each step. */
function run<O>(ref: ReferenceOptimizer<O>, options: O, p0: number[], grads: number[][]) {
  const p = Float64Array.from(p0);
  const state = ref.init(p.length, options);
  const trajectory: number[][] = [];
  for (const g of grads) {
    ref.step(p, Float64Array.from(g), state, options);
    trajectory.push([...p]);
  }
  return { p: [...p], state, trajectory };
}

/** Deterministic N(0,1)-ish numbers (mulberry32 + Box-Muller). */
function randoms(seed: number, n: number): number[] {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return (((x ^ (x >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  return Array.from({ length: n }, () => {
    return Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  });
}

function expectClose(actual: readonly number[], expected: readonly number[], rel = 1e-12): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    if (Math.abs(a - e) > rel * Math.max(1, Math.abs(e))) {
      expect.fail(`index ${i}: actual ${a}, expected ${e} (|diff| ${Math.abs(a - e)})`);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Hand-worked values
// ---------------------------------------------------------------------------------------------

describe('Adam', () => {
  // 1/(1 - 0.9^t) and 1/(1 - 0.999^t) by hand: 1/0.1, 1/0.19, 1/0.271 and 1/0.001, 1/0.001999,
  // 1/0.002997001.
  it.each([
    [1, 10, 1000],
    [2, 5.263157894736842, 500.2501250625313],
    [3, 3.690036900369004, 333.66688900003703],
  ])('bias corrections at t = %i: 1/(1-beta1^t) = %f, 1/(1-beta2^t) = %f', (t, inv1, inv2) => {
    const { biasCorrection1, biasCorrection2 } = adamBiasCorrections(0.9, 0.999, t);
    expect(1 / biasCorrection1).toBeCloseTo(inv1, 9);
    expect(1 / biasCorrection2).toBeCloseTo(inv2, 9);
  });

  it('moves p by lr*g/(|g|+eps) per step under a constant g (the bias corrections cancel)', () => {
    const r = run(adamReference, { ...adam, lr: 0.1 }, [1], [[0.5], [0.5], [0.5]]);
    const perStep = (0.1 * 0.5) / (0.5 + 1e-8);
    expectClose(r.trajectory.flat(), [1 - perStep, 1 - 2 * perStep, 1 - 3 * perStep]);
    expectClose([...(r.state.expAvg as Float64Array)], [0.271 * 0.5]); // (1 - 0.9^3) g
    expectClose([...(r.state.expAvgSq as Float64Array)], [0.002997001 * 0.25]); // (1 - 0.999^3) g^2
    expect(r.state.step).toBe(3);
  });

  it('uses the bias-corrected second moment after g = 1, 0 (m = 0.09, v = 0.000999)', () => {
    const r = run(adamReference, { ...adam, lr: 0.1 }, [0], [[1], [0]]);
    const p1 = -0.1 / (1 + 1e-8);
    const p2 = p1 - ((0.1 / 0.19) * 0.09) / (Math.sqrt(0.000999 / 0.001999) + 1e-8);
    expectClose(r.trajectory.flat(), [p1, p2]);
  });

  it('amsgrad keeps the larger v (0.001 over 0.000999) in the denominator', () => {
    const r = run(adamReference, { ...adam, lr: 0.1, amsgrad: true }, [0], [[1], [0]]);
    const p1 = -0.1 / (1 + 1e-8);
    const p2 = p1 - ((0.1 / 0.19) * 0.09) / (Math.sqrt(0.001 / 0.001999) + 1e-8);
    expectClose(r.trajectory.flat(), [p1, p2]);
    expectClose([...(r.state.maxExpAvgSq as Float64Array)], [0.001]);
    expectClose([...(r.state.expAvgSq as Float64Array)], [0.000999]);
  });

  it('L2 weight decay adds weightDecay*p to g: g = 0, p = 2 acts as g = 1 with weightDecay 0.5', () => {
    const decayed = run(adamReference, { ...adam, weightDecay: 0.5 }, [2], [[0]]);
    const plain = run(adamReference, adam, [2], [[1]]);
    expect(decayed.p).toEqual(plain.p);
  });
});

describe('AdamW', () => {
  it('decays p by (1 - lr*weightDecay) per step, decoupled from the moments', () => {
    const options = { ...adamw, lr: 0.1, weightDecay: 0.5 };
    const r = run(adamwReference, options, [2], [[0], [0], [0]]);
    expectClose(r.trajectory.flat(), [2 * 0.95, 2 * 0.95 ** 2, 2 * 0.95 ** 3]);
    expectClose([...(r.state.expAvg as Float64Array)], [0]); // Adam's L2 would have fed p into m
    const withL2 = run(adamReference, options, [2], [[0]]);
    expectClose([...(withL2.state.expAvg as Float64Array)], [0.1]); // (1 - beta1)*weightDecay*p
  });
});

describe('SGD', () => {
  // p0 = 1, g = 1 then 2, lr 0.1; worked by hand in the comments.
  it.each<[string, Partial<SGDOptions>, number[]]>([
    // p = 1 - 0.1 = 0.9; 0.9 - 0.2 = 0.7
    ['plain', {}, [0.9, 0.7]],
    // b = 1, p = 0.9; b = 0.9 + 2 = 2.9, p = 0.9 - 0.29 = 0.61
    ['momentum 0.9 (b = g on the first step)', { momentum: 0.9 }, [0.9, 0.61]],
    // b = 1 (no dampening on the first step), p = 0.9; b = 0.9 + 0.5*2 = 1.9, p = 0.71
    ['momentum 0.9, dampening 0.5', { momentum: 0.9, dampening: 0.5 }, [0.9, 0.71]],
    // b = 1, d = 1 + 0.9 = 1.9, p = 0.81; b = 2.9, d = 2 + 2.61 = 4.61, p = 0.349
    ['nesterov', { momentum: 0.9, nesterov: true }, [0.81, 0.349]],
    // g = 1 + 0.1*1 = 1.1, p = 0.89; g = 2 + 0.089 = 2.089, p = 0.6811
    ['weightDecay 0.1', { weightDecay: 0.1 }, [0.89, 0.6811]],
    // g = -1, p = 1.1; g = -2, p = 1.3
    ['maximize', { maximize: true }, [1.1, 1.3]],
  ])('%s', (_, overrides, expected) => {
    const r = run(sgdReference, { ...sgd, lr: 0.1, ...overrides }, [1], [[1], [2]]);
    expectClose(r.trajectory.flat(), expected);
  });

  it('stores momentumBuffer only when momentum is non-zero, b = g after the first step', () => {
    expect(sgdReference.init(2, sgd)).toEqual({ step: 0 });
    const r = run(sgdReference, { ...sgd, momentum: 0.9, dampening: 0.5 }, [0, 0], [[3, -4]]);
    expect([...(r.state.momentumBuffer as Float64Array)]).toEqual([3, -4]);
  });
});

describe('Adagrad', () => {
  it('decays the learning rate as lr/(1 + (t-1)*lrDecay)', () => {
    const options = { ...adagrad, lr: 0.1, lrDecay: 0.5, eps: 0 };
    const r = run(adagradReference, options, [0], [[1], [1], [1]]);
    // clr = 0.1, 0.1/1.5, 0.1/2 with sum = 1, 2, 3
    const steps = [0.1, 0.1 / 1.5 / Math.SQRT2, 0.05 / Math.sqrt(3)];
    expectClose(r.trajectory.flat(), [
      -steps[0]!,
      -steps[0]! - steps[1]!,
      -steps[0]! - steps[1]! - steps[2]!,
    ]);
    expectClose([...(r.state.sum as Float64Array)], [3]);
  });

  it.each<[string, Partial<AdagradOptions>, number]>([
    [
      'starts sum at initialAccumulatorValue',
      { initialAccumulatorValue: 0.5, eps: 0 },
      -0.1 / Math.sqrt(1.5),
    ],
    ['puts eps outside the sqrt by default', { eps: 1 }, -0.1 / 2],
    [
      'puts eps inside the sqrt with epsInsideSqrt',
      { eps: 1, epsInsideSqrt: true },
      -0.1 / Math.SQRT2,
    ],
  ])('%s', (_, overrides, expected) => {
    const r = run(adagradReference, { ...adagrad, lr: 0.1, ...overrides }, [0], [[1]]);
    expectClose(r.p, [expected]);
  });
});

describe('Adadelta', () => {
  it('scales g by sqrt(accDelta + eps)/sqrt(squareAvg + eps)', () => {
    const r = run(adadeltaReference, adadelta, [0], [[1], [1]]);
    const d1 = Math.sqrt(1e-6) / Math.sqrt(0.1 + 1e-6); // squareAvg = 0.1, accDelta = 0
    const acc1 = 0.1 * d1 * d1;
    const d2 = Math.sqrt(acc1 + 1e-6) / Math.sqrt(0.19 + 1e-6);
    expectClose(r.trajectory.flat(), [-d1, -d1 - d2]);
    expectClose([...(r.state.accDelta as Float64Array)], [0.9 * acc1 + 0.1 * d2 * d2]);
  });
});

describe('RMSprop', () => {
  // alpha 0.9, lr 0.03, eps 0, g = 1 then -1.
  // centered: squareAvg = 0.1, gradAvg = 0.1, avg = sqrt(0.09) = 0.3, p = -0.1;
  //           squareAvg = 0.19, gradAvg = -0.01, avg = sqrt(0.19 - 0.0001) = sqrt(0.1899).
  const base = { ...rmsprop, alpha: 0.9, lr: 0.03, eps: 0 };
  it.each<[string, Partial<RMSpropOptions>, number[]]>([
    ['plain', {}, [-0.03 / Math.sqrt(0.1), -0.03 / Math.sqrt(0.1) + 0.03 / Math.sqrt(0.19)]],
    ['centered', { centered: true }, [-0.1, -0.1 + 0.03 / Math.sqrt(0.1899)]],
    [
      'centered, momentum 0.5',
      { centered: true, momentum: 0.5 },
      [-0.1, -0.1 - 0.03 * (0.5 / 0.3 - 1 / Math.sqrt(0.1899))],
    ],
    [
      'centered, eps 0.01 inside the sqrt',
      { centered: true, eps: 0.01, epsInsideSqrt: true },
      [-0.03 / Math.sqrt(0.1), -0.03 / Math.sqrt(0.1) + 0.03 / Math.sqrt(0.1999)],
    ],
  ])('%s', (_, overrides, expected) => {
    const r = run(rmspropReference, { ...base, ...overrides }, [0], [[1], [-1]]);
    expectClose(r.trajectory.flat(), expected);
  });

  it('keeps gradAvg only when centered and momentumBuffer only when momentum > 0', () => {
    expect(Object.keys(rmspropReference.init(1, rmsprop)).sort()).toEqual(['squareAvg', 'step']);
    const r = run(rmspropReference, { ...base, centered: true, momentum: 0.5 }, [0], [[1], [-1]]);
    expectClose([...(r.state.gradAvg as Float64Array)], [-0.01]);
    expectClose([...(r.state.squareAvg as Float64Array)], [0.19]);
  });
});

describe('Adamax', () => {
  it('divides by the infinity-norm accumulator max(beta2*u, |g| + eps)', () => {
    const r = run(adamaxReference, { ...adamax, lr: 0.1, eps: 0 }, [0], [[1], [0.5], [-2]]);
    // m = 0.1, u = 1; m = 0.14, u = max(0.999, 0.5); m = 0.126 - 0.2 = -0.074, u = 2
    const p1 = -0.1;
    const p2 = p1 - ((0.1 / 0.19) * 0.14) / 0.999;
    const p3 = p2 + ((0.1 / 0.271) * 0.074) / 2;
    expectClose(r.trajectory.flat(), [p1, p2, p3]);
    expectClose([...(r.state.expInf as Float64Array)], [2]);
  });
});

describe('NAdam', () => {
  // mu_t = 0.9*(1 - 0.5*0.96^(0.004 t)), computed to 40 digits with Python's decimal module.
  it.each([
    [1, 0.45007347359129612],
    [2, 0.45014693518621757],
    [3, 0.45022038478672294],
    [4, 0.4502938223947708],
  ])('mu_%i = %f', (t, mu) => {
    expect(nadamMu(0.9, 4e-3, t)).toBeCloseTo(mu, 14);
  });

  it('accumulates muProduct = mu_1*mu_2*mu_3 after three steps', () => {
    const r = run(nadamReference, nadam, [0], [[1], [1], [1]]);
    expect(r.state.muProduct).toBeCloseTo(0.09121428741590593, 14);
    expect(nadamReference.init(1, nadam).muProduct).toBe(1);
  });

  it('takes a first step of -lr*(1 + mu_2*0.1/(1 - mu_1*mu_2)) for g = 1, eps 0', () => {
    // m = 0.1, v = 0.001 = 1 - beta2, so D = 1; the g term's coefficient is (1-mu_1)/(1-mu_1) = 1.
    const mu1 = 0.45007347359129612;
    const mu2 = 0.45014693518621757;
    const r = run(nadamReference, { ...nadam, lr: 1, eps: 0 }, [0], [[1]]);
    expectClose(r.p, [-1 - (0.1 * mu2) / (1 - mu1 * mu2)]);
  });
});

describe('RAdam', () => {
  // rho_t = rhoInf - 2t*beta2^t/(1 - beta2^t) for beta2 = 0.999 (rhoInf = 1999), by Python decimal.
  it.each([
    [1, 1],
    [2, 1.9994997498749374],
    [3, 2.998665999777778],
    [4, 3.997498749875438],
    [5, 4.995998000401602],
    [6, 5.994163751656718],
    [7, 6.9919960040080023],
  ])('rho_%i = %f: rectified only from t = 6 on', (t, rhoT) => {
    const rect = radamRectification(0.999, t);
    if (rhoT > 5) {
      const rhoInf = 1999;
      const r = Math.sqrt(
        ((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT),
      );
      expect(rect).not.toBeNull();
      expect(rect!).toBeCloseTo(r, 12);
    } else {
      expect(rect).toBeNull();
    }
  });

  it('steps by lr*mHat for t <= 5 and by lr*mHat*r once rectified', () => {
    // g = 1: mHat = 1 and v = 1 - beta2^t, so sqrt(1 - beta2^t)/sqrt(v) = 1 with eps 0.
    const grads = Array.from({ length: 6 }, () => [1]);
    const r = run(radamReference, { ...radam, lr: 0.1, eps: 0 }, [0], grads);
    const r6 = 0.025821112801865217;
    expectClose(r.trajectory.flat(), [-0.1, -0.2, -0.3, -0.4, -0.5, -0.5 - 0.1 * r6]);
  });
});

describe('Lion', () => {
  it('takes sign steps with sign(0) = 0, interpolating with beta1 and storing with beta2', () => {
    const options = { ...lion, lr: 0.1 };
    const r = run(
      lionReference,
      options,
      [1, 1, 1],
      [
        [1, -1, 0],
        [0, 0, 0],
      ],
    );
    // c = 0.1*g: p = [0.9, 1.1, 1]; m = 0.01*g; then c = 0.9*m keeps the signs.
    expectClose(r.trajectory[0]!, [0.9, 1.1, 1]);
    expectClose(r.trajectory[1]!, [0.8, 1.2, 1]);
    expectClose([...(r.state.expAvg as Float64Array)], [0.0099, -0.0099, 0]);
  });

  it('decays p decoupled by (1 - lr*weightDecay) and negates g with maximize', () => {
    expectClose(run(lionReference, { ...lion, lr: 0.1, weightDecay: 0.5 }, [2], [[0]]).p, [1.9]);
    expectClose(run(lionReference, { ...lion, lr: 0.1, maximize: true }, [2], [[3]]).p, [2.1]);
  });
});

describe('LAMB', () => {
  it.each<[string, Partial<LAMBOptions>, number[], number[], number[]]>([
    // u = [1, 1], r = ||p||/||u|| = 5/sqrt(2)
    ['trust ratio ||p||/||u||', {}, [3, 4], [1, 1], [3 - 0.5 / Math.SQRT2, 4 - 0.5 / Math.SQRT2]],
    // u = [1, 1] + 0.1*p = [1.3, 1.4], ||u|| = sqrt(3.65)
    [
      'weight decay inside u',
      { weightDecay: 0.1 },
      [3, 4],
      [1, 1],
      [3 - (0.5 / Math.sqrt(3.65)) * 1.3, 4 - (0.5 / Math.sqrt(3.65)) * 1.4],
    ],
    // ||p|| = 0: r = 1, u = g/|g|
    ['r = 1 when ||p|| = 0', { weightDecay: 0.1 }, [0, 0], [1, -2], [-0.1, 0.1]],
    // g = 0 and no decay: u = 0, r = 1, p unchanged
    ['r = 1 when ||u|| = 0', { weightDecay: 0, eps: 1e-6 }, [3, 4], [0, 0], [3, 4]],
  ])('%s', (_, overrides, p0, g, expected) => {
    const r = run(lambReference, { ...lamb, lr: 0.1, eps: 0, weightDecay: 0, ...overrides }, p0, [
      g,
    ]);
    expectClose(r.p, expected);
  });
});

describe('LARS', () => {
  it('scales by trustCoefficient*||p||/(||g|| + weightDecay*||p||) with momentum', () => {
    const options = { ...lars, lr: 1, trustCoefficient: 0.1, weightDecay: 0.5, momentum: 0.9 };
    const r = run(
      larsReference,
      options,
      [3, 4],
      [
        [0.6, 0.8],
        [0.6, 0.8],
      ],
    );
    // local = 0.5/3.5, b = (g + 0.5p)/7 = [0.3, 0.4]; then local = 0.45/3.25, b = [0.54, 0.72]
    expectClose(r.trajectory[0]!, [2.7, 3.6]);
    expectClose(r.trajectory[1]!, [2.16, 2.88]);
  });

  it.each<[string, number[], number[], number[]]>([
    ['local = 1 when ||p|| = 0', [0, 0], [1, -2], [-0.1, 0.2]],
    ['local = 1 when ||g|| = 0', [3, 4], [0, 0], [3 - 0.15, 4 - 0.2]],
  ])('%s', (_, p0, g, expected) => {
    const options = { ...lars, lr: 0.1, weightDecay: 0.5 };
    expectClose(run(larsReference, options, p0, [g]).p, expected);
  });
});

describe('gradient clipping', () => {
  it.each<[string, number[][], number, number, number]>([
    ['scales down by maxNorm/(total + 1e-6)', [[3], [4]], 1, 5, 1 / 5.000001],
    ['leaves gradients under the limit alone', [[0.3], [0.4]], 1, 0.5, 1],
    ['still scales (slightly) when total == maxNorm', [[3], [4]], 5, 5, 5 / 5.000001],
    ['handles all-zero gradients', [[0, 0], [0]], 1, 0, 1],
  ])('clipGradNorm %s', (_, grads, maxNorm, total, coef) => {
    const g = grads.map((x) => Float64Array.from(x));
    expect(clipGradNormReference(g, maxNorm)).toBeCloseTo(total, 12);
    expectClose(
      g.map((x) => [...x]).flat(),
      grads.flat().map((x) => x * coef),
      1e-15,
    );
  });

  it('clipGradValue clamps into [-clipValue, clipValue]', () => {
    const g = [Float64Array.from([-2, -0.5, 0, 0.5, 2]), Float64Array.from([1, -1])];
    clipGradValueReference(g, 0.75);
    expect(g.map((x) => [...x])).toEqual([
      [-0.75, -0.5, 0, 0.5, 0.75],
      [0.75, -0.75],
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// Multi-step trajectories against independent textbook loops
// ---------------------------------------------------------------------------------------------

/** One element's trajectory under a textbook update; elementwise optimizers only. */
type Textbook = (p: number, grads: number[]) => number[];

const sgdTextbook =
  (o: SGDOptions): Textbook =>
  (p, grads) => {
    let b = 0;
    return grads.map((g0, k) => {
      const g = (o.maximize ? -g0 : g0) + o.weightDecay * p;
      let d = g;
      if (o.momentum !== 0) {
        b = k === 0 ? g : o.momentum * b + (1 - o.dampening) * g;
        d = o.nesterov ? g + o.momentum * b : b;
      }
      return (p -= o.lr * d);
    });
  };

/** Adam as written in the PyTorch docs: bias-corrected mHat, vHat; AdamW decays p first. */
const adamTextbook =
  (o: AdamOptions, decoupled: boolean): Textbook =>
  (p, grads) => {
    const [b1, b2] = o.betas;
    let m = 0;
    let v = 0;
    let vMax = 0;
    return grads.map((g0, k) => {
      const t = k + 1;
      let g = o.maximize ? -g0 : g0;
      if (decoupled) p -= o.lr * o.weightDecay * p;
      else g += o.weightDecay * p;
      m = b1 * m + (1 - b1) * g;
      v = b2 * v + (1 - b2) * g * g;
      vMax = Math.max(vMax, v);
      const vHat = (o.amsgrad ? vMax : v) / (1 - b2 ** t);
      return (p -= (o.lr * (m / (1 - b1 ** t))) / (Math.sqrt(vHat) + o.eps));
    });
  };

const adagradTextbook =
  (o: AdagradOptions): Textbook =>
  (p, grads) => {
    let sum = o.initialAccumulatorValue;
    return grads.map((g0, k) => {
      const g = (o.maximize ? -g0 : g0) + o.weightDecay * p;
      sum += g * g;
      const denom = o.epsInsideSqrt ? Math.sqrt(sum + o.eps) : Math.sqrt(sum) + o.eps;
      return (p -= ((o.lr / (1 + k * o.lrDecay)) * g) / denom);
    });
  };

const adadeltaTextbook =
  (o: AdadeltaOptions): Textbook =>
  (p, grads) => {
    let sq = 0;
    let acc = 0;
    return grads.map((g0) => {
      const g = (o.maximize ? -g0 : g0) + o.weightDecay * p;
      sq = o.rho * sq + (1 - o.rho) * g * g;
      const d = (Math.sqrt(acc + o.eps) * g) / Math.sqrt(sq + o.eps);
      acc = o.rho * acc + (1 - o.rho) * d * d;
      return (p -= o.lr * d);
    });
  };

const rmspropTextbook =
  (o: RMSpropOptions): Textbook =>
  (p, grads) => {
    let sq = 0;
    let ga = 0;
    let b = 0;
    return grads.map((g0) => {
      const g = (o.maximize ? -g0 : g0) + o.weightDecay * p;
      sq = o.alpha * sq + (1 - o.alpha) * g * g;
      ga = o.alpha * ga + (1 - o.alpha) * g;
      const variance = o.centered ? sq - ga * ga : sq;
      const avg = o.epsInsideSqrt ? Math.sqrt(variance + o.eps) : Math.sqrt(variance) + o.eps;
      b = o.momentum * b + g / avg;
      return (p -= o.lr * (o.momentum > 0 ? b : g / avg));
    });
  };

const adamaxTextbook =
  (o: AdamaxOptions): Textbook =>
  (p, grads) => {
    const [b1, b2] = o.betas;
    let m = 0;
    let u = 0;
    return grads.map((g0, k) => {
      const g = (o.maximize ? -g0 : g0) + o.weightDecay * p;
      m = b1 * m + (1 - b1) * g;
      u = Math.max(b2 * u, Math.abs(g) + o.eps);
      return (p -= (o.lr * m) / (1 - b1 ** (k + 1)) / u);
    });
  };

/** NAdam as in the PyTorch docs' algorithm box. */
const nadamTextbook =
  (o: NAdamOptions): Textbook =>
  (p, grads) => {
    const [b1, b2] = o.betas;
    const mu = (t: number) => b1 * (1 - 0.5 * Math.pow(0.96, t * o.momentumDecay));
    let m = 0;
    let v = 0;
    let muProduct = 1;
    return grads.map((g0, k) => {
      const t = k + 1;
      const g = (o.maximize ? -g0 : g0) + o.weightDecay * p;
      muProduct *= mu(t);
      m = b1 * m + (1 - b1) * g;
      v = b2 * v + (1 - b2) * g * g;
      const mHat =
        (mu(t + 1) * m) / (1 - muProduct * mu(t + 1)) + ((1 - mu(t)) * g) / (1 - muProduct);
      return (p -= (o.lr * mHat) / (Math.sqrt(v / (1 - b2 ** t)) + o.eps));
    });
  };

/** RAdam as in the PyTorch docs' algorithm box. */
const radamTextbook =
  (o: RAdamOptions): Textbook =>
  (p, grads) => {
    const [b1, b2] = o.betas;
    const rhoInf = 2 / (1 - b2) - 1;
    let m = 0;
    let v = 0;
    return grads.map((g0, k) => {
      const t = k + 1;
      const g = (o.maximize ? -g0 : g0) + o.weightDecay * p;
      m = b1 * m + (1 - b1) * g;
      v = b2 * v + (1 - b2) * g * g;
      const mHat = m / (1 - b1 ** t);
      const rho = rhoInf - (2 * t * b2 ** t) / (1 - b2 ** t);
      if (rho <= 5) return (p -= o.lr * mHat);
      const l = Math.sqrt(1 - b2 ** t) / (Math.sqrt(v) + o.eps);
      const r = Math.sqrt(((rho - 4) * (rho - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rho));
      return (p -= o.lr * mHat * l * r);
    });
  };

const lionTextbook =
  (o: LionOptions): Textbook =>
  (p, grads) => {
    const [b1, b2] = o.betas;
    let m = 0;
    return grads.map((g0) => {
      const g = o.maximize ? -g0 : g0;
      const update = Math.sign(b1 * m + (1 - b1) * g) + o.weightDecay * p;
      m = b2 * m + (1 - b2) * g;
      return (p -= o.lr * update);
    });
  };

const elementwise: [string, ReferenceOptimizer<never>, unknown, Textbook][] = [];
function add<O>(label: string, ref: ReferenceOptimizer<O>, options: O, textbook: Textbook): void {
  elementwise.push([label, ref as ReferenceOptimizer<never>, options, textbook]);
}
for (const o of [
  { ...sgd, lr: 0.1 },
  { ...sgd, lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 },
  { ...sgd, lr: 0.1, momentum: 0.9, nesterov: true, maximize: true },
]) {
  add(`SGD ${JSON.stringify(o)}`, sgdReference, o, sgdTextbook(o));
}
for (const o of [
  { ...adam, lr: 0.01 },
  { ...adam, lr: 0.01, weightDecay: 0.1, amsgrad: true },
  { ...adam, lr: 0.01, betas: [0.5, 0.9] as [number, number], maximize: true },
]) {
  add(`Adam ${JSON.stringify(o)}`, adamReference, o, adamTextbook(o, false));
  const w = { ...o, weightDecay: 0.1 };
  add(`AdamW ${JSON.stringify(w)}`, adamwReference, w, adamTextbook(w, true));
}
for (const o of [
  adagrad,
  { ...adagrad, lrDecay: 0.1, weightDecay: 0.1, initialAccumulatorValue: 0.2 },
  { ...adagrad, eps: 1e-3, epsInsideSqrt: true, maximize: true },
]) {
  add(`Adagrad ${JSON.stringify(o)}`, adagradReference, o, adagradTextbook(o));
}
for (const o of [adadelta, { ...adadelta, lr: 0.5, rho: 0.5, weightDecay: 0.1, maximize: true }]) {
  add(`Adadelta ${JSON.stringify(o)}`, adadeltaReference, o, adadeltaTextbook(o));
}
for (const o of [
  rmsprop,
  { ...rmsprop, centered: true, momentum: 0.9, weightDecay: 0.1 },
  { ...rmsprop, centered: true, eps: 1e-4, epsInsideSqrt: true, maximize: true },
  { ...rmsprop, momentum: 0.5, epsInsideSqrt: true },
]) {
  add(`RMSprop ${JSON.stringify(o)}`, rmspropReference, o, rmspropTextbook(o));
}
for (const o of [adamax, { ...adamax, weightDecay: 0.1, maximize: true }]) {
  add(`Adamax ${JSON.stringify(o)}`, adamaxReference, o, adamaxTextbook(o));
}
for (const o of [nadam, { ...nadam, weightDecay: 0.1, momentumDecay: 0.1, maximize: true }]) {
  add(`NAdam ${JSON.stringify(o)}`, nadamReference, o, nadamTextbook(o));
}
for (const o of [radam, { ...radam, betas: [0.9, 0.9] as [number, number], weightDecay: 0.1 }]) {
  add(`RAdam ${JSON.stringify(o)}`, radamReference, o, radamTextbook(o));
}
for (const o of [lion, { ...lion, lr: 0.01, weightDecay: 0.5, maximize: true }]) {
  add(`Lion ${JSON.stringify(o)}`, lionReference, o, lionTextbook(o));
}

describe('trajectories match textbook loops over 12 steps', () => {
  const n = 5;
  const steps = 12;
  const p0 = randoms(1, n);
  const grads = Array.from({ length: steps }, (_, k) => randoms(100 + k, n));
  it.each(elementwise)('%s', (_, ref, options, textbook) => {
    const r = run(ref, options as never, p0, grads);
    for (let i = 0; i < n; i++) {
      const expected = textbook(
        p0[i]!,
        grads.map((g) => g[i]!),
      );
      expectClose(
        r.trajectory.map((p) => p[i]!),
        expected,
      );
    }
  });

  it('LAMB matches a direct vector loop', () => {
    const o = { ...lamb, lr: 0.01, weightDecay: 0.1, maximize: true };
    const [b1, b2] = o.betas;
    const p = [...p0];
    const m = new Array<number>(n).fill(0);
    const v = new Array<number>(n).fill(0);
    const expected = grads.map((g0, k) => {
      const t = k + 1;
      const u = g0.map((gi, i) => {
        const g = -gi;
        m[i] = b1 * m[i]! + (1 - b1) * g;
        v[i] = b2 * v[i]! + (1 - b2) * g * g;
        return (
          m[i]! / (1 - b1 ** t) / (Math.sqrt(v[i]! / (1 - b2 ** t)) + o.eps) + o.weightDecay * p[i]!
        );
      });
      const norm = (x: number[]) => Math.hypot(...x);
      const ratio = norm(p) / norm(u);
      u.forEach((ui, i) => (p[i] = p[i]! - o.lr * ratio * ui));
      return [...p];
    });
    const r = run(lambReference, o, p0, grads);
    expectClose(r.trajectory.flat(), expected.flat());
  });

  it('LARS matches a direct vector loop', () => {
    const o = { ...lars, lr: 0.1, weightDecay: 0.01, trustCoefficient: 0.02, maximize: true };
    const p = [...p0];
    const b = new Array<number>(n).fill(0);
    const expected = grads.map((g0) => {
      const g = g0.map((x) => -x);
      const pNorm = Math.hypot(...p);
      const local = (o.trustCoefficient * pNorm) / (Math.hypot(...g) + o.weightDecay * pNorm);
      for (let i = 0; i < n; i++) {
        b[i] = o.momentum * b[i]! + local * (g[i]! + o.weightDecay * p[i]!);
        p[i] = p[i]! - o.lr * b[i]!;
      }
      return [...p];
    });
    const r = run(larsReference, o, p0, grads);
    expectClose(r.trajectory.flat(), expected.flat());
  });
});

// ---------------------------------------------------------------------------------------------
// Contracts shared by every reference
// ---------------------------------------------------------------------------------------------

const defaults: Record<ReferenceName, unknown> = {
  SGD: { ...sgd, momentum: 0.9 },
  Adam: { ...adam, amsgrad: true },
  AdamW: adamw,
  Adagrad: adagrad,
  Adadelta: adadelta,
  RMSprop: { ...rmsprop, momentum: 0.9, centered: true },
  Adamax: adamax,
  NAdam: nadam,
  RAdam: radam,
  Lion: lion,
  LAMB: lamb,
  LARS: lars,
  AdamWScheduleFree: optimizerSpecs.AdamWScheduleFree.defaults,
  SGDScheduleFree: optimizerSpecs.SGDScheduleFree.defaults,
  ADOPT: optimizerSpecs.ADOPT.defaults,
  Adafactor: optimizerSpecs.Adafactor.defaults,
  Muon: optimizerSpecs.Muon.defaults,
};

const stateNames: Record<ReferenceName, string[]> = {
  SGD: ['momentumBuffer'],
  Adam: ['expAvg', 'expAvgSq', 'maxExpAvgSq'],
  AdamW: ['expAvg', 'expAvgSq'],
  Adagrad: ['sum'],
  Adadelta: ['accDelta', 'squareAvg'],
  RMSprop: ['gradAvg', 'momentumBuffer', 'squareAvg'],
  Adamax: ['expAvg', 'expInf'],
  NAdam: ['expAvg', 'expAvgSq', 'muProduct'],
  RAdam: ['expAvg', 'expAvgSq'],
  Lion: ['expAvg'],
  LAMB: ['expAvg', 'expAvgSq'],
  LARS: ['momentumBuffer'],
  AdamWScheduleFree: ['expAvgSq', 'lrMax', 'weightSum', 'z'],
  SGDScheduleFree: ['lrMax', 'weightSum', 'z'],
  ADOPT: ['expAvg', 'expAvgSq'],
  Adafactor: ['variance'],
  Muon: ['momentumBuffer'],
};

describe.each(Object.keys(references) as ReferenceName[])('%s reference', (name) => {
  const ref = references[name] as ReferenceOptimizer<unknown>;
  const withDecay = { ...(defaults[name] as object), weightDecay: 0.1, maximize: true };

  it('is registered under its own name', () => {
    expect(ref.name).toBe(name);
  });

  it('starts at step 0 with the CONVENTIONS state names', () => {
    const state: ReferenceState = ref.init(3, defaults[name]);
    expect(state.step).toBe(0);
    expect(
      Object.keys(state)
        .filter((k) => k !== 'step')
        .sort(),
    ).toEqual(stateNames[name]);
  });

  it('counts steps and never modifies g', () => {
    const p = Float64Array.from([0.5, -1, 2]);
    const g = Float64Array.from([0.25, 0, -3]);
    const state = ref.init(3, withDecay);
    for (let k = 1; k <= 3; k++) {
      ref.step(p, g, state, withDecay);
      expect(state.step).toBe(k);
    }
    expect([...g]).toEqual([0.25, 0, -3]);
    expect([...p].every(Number.isFinite)).toBe(true);
    expect([...p]).not.toEqual([0.5, -1, 2]);
  });

  it.skipIf(!('maximize' in (defaults[name] as object)))(
    'maximize is minimizing the negated gradient',
    () => {
      const o = defaults[name] as { maximize: boolean };
      const a = run(
        ref,
        { ...o, maximize: true },
        [0.5, -1, 2],
        [
          [0.25, 0.5, -3],
          [1, -1, 0.5],
        ],
      );
      const b = run(
        ref,
        o,
        [0.5, -1, 2],
        [
          [-0.25, -0.5, 3],
          [-1, 1, -0.5],
        ],
      );
      expect(a.p).toEqual(b.p);
    },
  );
});

describe('ADOPT reference (iShohei220/adopt)', () => {
  it('the first step only sets v = g^2; the second normalises by it and clips at 1^0.25', () => {
    const o = { ...optimizerSpecs.ADOPT.defaults, lr: 0.1 };
    const p = Float64Array.from([1, -2]);
    const state = adoptReference.init(2, o);
    adoptReference.step(p, Float64Array.from([0.5, 4]), state, o);
    expect([...p]).toEqual([1, -2]);
    expect([...(state.expAvgSq as Float64Array)]).toEqual([0.25, 16]);
    adoptReference.step(p, Float64Array.from([2, 1]), state, o);
    // n = clamp(g / sqrt(v), -1, 1) = [1, 0.25]; m = 0.1 * n; p -= 0.1 * m
    const m = state.expAvg as Float64Array;
    expect(m[0]).toBeCloseTo(0.1, 15);
    expect(m[1]).toBeCloseTo(0.025, 15);
    expect(p[0]).toBeCloseTo(1 - 0.01, 15);
    expect(p[1]).toBeCloseTo(-2 - 0.0025, 15);
  });
});

describe('Adafactor reference (torch.optim.Adafactor)', () => {
  const o = { ...optimizerSpecs.Adafactor.defaults, lr: 0.5 };
  it('a [2, 2] matrix keeps 2 + 2 statistics: rowVar = mean_cols g^2, colVar = mean_rows g^2 at t = 1', () => {
    const state = adafactorReference.init(4, o, [2, 2]);
    expect(Object.keys(state).sort()).toEqual(['colVar', 'rowVar', 'step']);
    const p = Float64Array.from([1, 1, 1, 1]);
    adafactorReference.step(p, Float64Array.from([1, 2, 3, 4]), state, o, [2, 2]);
    expect([...(state.rowVar as Float64Array)]).toEqual([2.5, 12.5]);
    expect([...(state.colVar as Float64Array)]).toEqual([5, 10]);
  });
  it('a rank-1 g^2 is factored exactly: the step equals the unfactored one of v = g^2', () => {
    // g = a b^T has g^2 = (a^2)(b^2)^T, whose row/col factorisation reproduces it exactly.
    const a = [1, 2, 3];
    const b = [0.5, -1];
    const g = Float64Array.from(a.flatMap((x) => b.map((y) => x * y)));
    const p1 = Float64Array.from([1, -1, 2, 0.5, -0.5, 3]);
    const p2 = Float64Array.from(p1);
    adafactorReference.step(p1, g, adafactorReference.init(6, o, [3, 2]), o, [3, 2]);
    adafactorReference.step(p2, g, adafactorReference.init(6, o), o, [6]);
    p1.forEach((v, i) => expect(v).toBeCloseTo(p2[i]!, 14));
  });
  it('clips the update to RMS d: the first step moves p by alpha = max(eps2, RMS(p)) * min(lr, 1) per element', () => {
    // t = 1: v = g^2, u = sign(g) (RMS 1), so p moves by alpha = RMS(p) * 0.5 each.
    const p = Float64Array.from([3, -4]);
    adafactorReference.step(p, Float64Array.from([2, -0.1]), adafactorReference.init(2, o), o);
    const alpha = Math.sqrt(12.5) * 0.5;
    expect(p[0]).toBeCloseTo(3 - alpha, 12);
    expect(p[1]).toBeCloseTo(-4 + alpha, 12);
  });
});

describe('Muon reference (torch.optim.Muon)', () => {
  it('Newton-Schulz maps a matrix to singular values near 1 (0.5-1.5 with the default coefficients)', () => {
    const o = optimizerSpecs.Muon.defaults;
    const [m, n] = [4, 6];
    const u = Float64Array.from({ length: m * n }, (_, i) => Math.sin(i * 1.7) + 0.1 * i);
    const x = newtonSchulz(u, m, n, o);
    // X X^T's eigenvalues are the squared singular values: its trace / m is their mean.
    let trace = 0;
    for (let i = 0; i < m; i++) for (let k = 0; k < n; k++) trace += x[i * n + k]! ** 2;
    expect(trace / m).toBeGreaterThan(0.5 ** 2);
    expect(trace / m).toBeLessThan(1.5 ** 2);
  });
  it('transposes a tall matrix: NS of u^T is the transpose of NS of u', () => {
    const o = optimizerSpecs.Muon.defaults;
    const u = Float64Array.from([1, 2, 3, 4, 5, 7]); // [3, 2]
    const ut = Float64Array.from([1, 3, 5, 2, 4, 7]); // [2, 3]
    const a = newtonSchulz(u, 3, 2, o);
    const b = newtonSchulz(ut, 2, 3, o);
    for (let r = 0; r < 3; r++)
      for (let c = 0; c < 2; c++) expect(a[r * 2 + c]).toBeCloseTo(b[c * 3 + r]!, 14);
  });
  it('adjusts lr as torch: sqrt(max(1, A/B)) by default, 0.2 sqrt(max(A, B)) for match_rms_adamw', () => {
    expect(muonLrRatio(null, 8, 2)).toBe(2);
    expect(muonLrRatio('original', 2, 8)).toBe(1);
    expect(muonLrRatio('match_rms_adamw', 2, 100)).toBeCloseTo(2, 15);
  });
});

describe('schedule-free references (facebookresearch/schedule_free)', () => {
  it('SGD: the first step moves y to z then along -g; eval/train move between x and y', () => {
    const o = { ...optimizerSpecs.SGDScheduleFree.defaults, lr: 0.5, momentum: 0.5 };
    const p = Float64Array.from([1]);
    const state = sgdScheduleFreeReference.init(1, o);
    sgdScheduleFreeReference.step(p, Float64Array.from([2]), state, o);
    // k = 0: weight = lrMax^2 = 0.25 = weightSum, c = 1; y = z = 1; y += 0.5*(0.5*0 - 1)*2; z = 1 - 1
    expect([p[0], (state.z as Float64Array)[0], state.weightSum, state.lrMax]).toEqual([
      0, 0, 0.25, 0.5,
    ]);
    scheduleFreeEval(p, state, o.momentum);
    const x = p[0]!;
    expect(x).toBeCloseTo(0 + (1 - 1 / 0.5) * (0 - 0), 15);
    scheduleFreeTrain(p, state, o.momentum);
    expect(p[0]).toBeCloseTo(0, 15);
  });
  it('AdamW: lr carries sqrt(1 - beta2^(k+1)) and warmup scales it by (k+1)/warmupSteps', () => {
    const o = { ...optimizerSpecs.AdamWScheduleFree.defaults, warmupSteps: 4 };
    const state = { step: 0, weightSum: 0, lrMax: -1 };
    const first = scheduleFreeStep(state, o, (k) => Math.sqrt(1 - o.betas[1] ** (k + 1)));
    expect(first.lr).toBeCloseTo(0.0025 * 0.25 * Math.sqrt(1 - 0.999), 18);
    expect(first.ckp1).toBe(1);
    const second = scheduleFreeStep(state, o, (k) => Math.sqrt(1 - o.betas[1] ** (k + 1)));
    expect(second.ckp1).toBeCloseTo(second.lr ** 2 / (first.lr ** 2 + second.lr ** 2), 15);
  });
});
