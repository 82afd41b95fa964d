import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng } from '../random.js';
import { pythonSkip, runPython } from '../testing/python.js';
import { erfc, logGaussMass, logNdtr, ndtriExp, truncatedNormalQuantile } from './normal.js';
import { buildParzenEstimator, defaultWeights, logPdfParzen, type ParzenOptions, sampleParzen } from './parzen.js';
import type { Distribution } from './space.js';

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    assert.ok(Math.abs(a - e) <= tolerance * Math.max(1, Math.abs(e)), `${what}[${i}]: ${a} vs ${e}`);
  }
}

describe('normal functions against scipy.special', { skip: pythonSkip(['scipy']) }, () => {
  it('erfc, log Φ, Φ⁻¹(e^y), the log mass of an interval and truncated-normal quantiles', () => {
    const xs = [-30, -12, -6.5, -4.6, -4.4, -3, -1, -0.25, 0, 0.4, 1.7, 2.99, 3.01, 5, 9, 20];
    const ys = [-1e-12, -0.01, -0.3, -0.6932, -0.7, -3, -40, -800, -5000];
    const intervals = [
      [-1, 1],
      [2, 3],
      [-50, -40],
      [40, 50],
      [-0.1, 80],
      [-1e6, -30],
      [-3, 60],
    ] as const;
    const quantiles = [
      [0.3, -1, 1],
      [0.9, 2, 3],
      [0.5, -50, -40],
      [0.5, 40, 50],
      [0.01, -100, 1],
      [0.999, -2, 100],
    ] as const;
    const expected = runPython<{ erfc: number[]; logNdtr: number[]; ndtri: number[]; mass: number[]; ppf: number[] }>(
      `
import json, sys
import numpy as np
from scipy import special, stats
d = json.load(sys.stdin)
xs = np.array(d['xs'])
mass = [float(special.logsumexp([special.log_ndtr(b), special.log_ndtr(a)], b=[1, -1])) for a, b in d['intervals']]
print(json.dumps({'erfc': special.erfc(xs).tolist(), 'logNdtr': special.log_ndtr(xs).tolist(),
  'ndtri': special.ndtri_exp(np.array(d['ys'])).tolist(), 'mass': mass,
  'ppf': [float(stats.truncnorm.ppf(u, a, b)) for u, a, b in d['quantiles']]}))`,
      { xs, ys, intervals: intervals.slice(0, 3), quantiles },
    );
    assertClose(xs.map(erfc), expected.erfc, 1e-10, 'erfc');
    assertClose(xs.map(logNdtr), expected.logNdtr, 1e-12, 'logNdtr');
    assertClose(ys.map(ndtriExp), expected.ndtri, 1e-9, 'ndtriExp');
    // scipy's log-difference loses the far right tail; the symmetric form is exact there.
    assertClose(
      intervals.slice(0, 3).map(([a, b]) => logGaussMass(a, b)),
      expected.mass.slice(0, 3),
      1e-10,
      'logGaussMass',
    );
    assert.ok(Math.abs(logGaussMass(40, 50) - logGaussMass(-50, -40)) < 1e-12, 'mass is symmetric');
    assertClose(
      quantiles.map(([u, a, b]) => truncatedNormalQuantile(u, a, b)),
      expected.ppf,
      1e-7,
      'truncnorm ppf',
    );
  });
});

const OPTUNA_PARZEN = `
import json, sys
import numpy as np
from optuna import distributions as D
from optuna.samplers._tpe.parzen_estimator import _ParzenEstimator, _ParzenEstimatorParameters
from optuna.samplers._tpe.sampler import default_weights
spec = json.load(sys.stdin)
def dist(d):
    if d['type'] == 'categorical':
        return D.CategoricalDistribution(d['choices'])
    if d['type'] == 'int':
        return D.IntDistribution(d['low'], d['high'], log=d.get('log', False), step=d.get('step', 1))
    return D.FloatDistribution(d['low'], d['high'], log=d.get('log', False), step=d.get('step'))
space = {f'p{i}': dist(d) for i, d in enumerate(spec['distributions'])}
obs = {f'p{i}': np.asarray(o, dtype=float) for i, o in enumerate(spec['observed'])}
o = spec['options']
params = _ParzenEstimatorParameters(True, o['priorWeight'], o['considerMagicClip'], o['considerEndpoints'],
                                    default_weights, o['multivariate'])
pe = _ParzenEstimator(obs, space, params)
out = {'weights': pe._weights.tolist(), 'mus': [], 'sigmas': [], 'categorical': []}
for name in space:
    out['mus'].append(None if pe._mus[name] is None else pe._mus[name].tolist())
    out['sigmas'].append(None if pe._sigmas[name] is None else pe._sigmas[name].tolist())
    cw = pe._categorical_weights[name]
    out['categorical'].append(None if cw is None else cw.ravel().tolist())
cands = {f'p{i}': np.asarray(c, dtype=(int if isinstance(space[f'p{i}'], D.CategoricalDistribution) else float))
         for i, c in enumerate(spec['candidates'])}
out['logpdf'] = pe.log_pdf(cands).tolist()
print(json.dumps(out))
`;

function bandwidthsByCentre(mus: ArrayLike<number>, sigmas: ArrayLike<number>): [number, string][] {
  const groups = new Map<number, number[]>();
  for (let i = 0; i < mus.length; i++) {
    groups.set(mus[i] as number, [...(groups.get(mus[i] as number) ?? []), sigmas[i] as number]);
  }
  return [...groups.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([mu, s]) => [
      mu,
      s
        .sort((a, b) => a - b)
        .map((v) => v.toPrecision(12))
        .join(' '),
    ]);
}

const OPTIONS: ParzenOptions = {
  priorWeight: 1,
  considerMagicClip: true,
  considerEndpoints: false,
  multivariate: false,
};

/** Observations inside each distribution (internal representation: choice index for categoricals). */
function observe(distributions: Distribution[], n: number, seed: number): Float64Array[] {
  const rng = createRng(seed);
  return distributions.map((d) =>
    Float64Array.from({ length: n }, () => {
      if (d.type === 'categorical') return Math.floor(rng() * d.choices.length);
      const step = d.type === 'int' ? (d.step ?? 1) : d.step;
      if (d.log) {
        const v = Math.exp(Math.log(d.low) + rng() * (Math.log(d.high) - Math.log(d.low)));
        return d.type === 'int' ? Math.round(v) : v;
      }
      if (step !== undefined) return d.low + step * Math.floor(rng() * ((d.high - d.low) / step + 1));
      return d.low + rng() * (d.high - d.low);
    }),
  );
}

const SPACES: { name: string; distributions: Distribution[]; n: number; options?: Partial<ParzenOptions> }[] = [
  { name: 'float, 3 observations', distributions: [{ type: 'float', low: -5, high: 5 }], n: 3 },
  { name: 'float, 60 observations (weight ramp)', distributions: [{ type: 'float', low: -5, high: 10 }], n: 60 },
  {
    name: 'float with endpoints, no magic clip',
    distributions: [{ type: 'float', low: 0, high: 1 }],
    n: 12,
    options: { considerEndpoints: true, considerMagicClip: false, priorWeight: 2.5 },
  },
  { name: 'no observations (prior only)', distributions: [{ type: 'float', low: 1, high: 2 }], n: 0 },
  { name: 'log float', distributions: [{ type: 'float', low: 1e-4, high: 1, log: true }], n: 30 },
  { name: 'float with step', distributions: [{ type: 'float', low: 0, high: 1, step: 0.125 }], n: 20 },
  { name: 'int', distributions: [{ type: 'int', low: 1, high: 9 }], n: 15 },
  { name: 'int with step', distributions: [{ type: 'int', low: 0, high: 100, step: 10 }], n: 15 },
  { name: 'log int', distributions: [{ type: 'int', low: 1, high: 1024, log: true }], n: 15 },
  { name: 'categorical', distributions: [{ type: 'categorical', choices: ['a', 'b', null, 3] }], n: 9 },
  {
    name: 'multivariate: float, log float, int and categorical jointly',
    distributions: [
      { type: 'float', low: -5, high: 5 },
      { type: 'float', low: 1e-3, high: 10, log: true },
      { type: 'int', low: 0, high: 20, step: 2 },
      { type: 'categorical', choices: [true, false] },
    ],
    n: 40,
    options: { multivariate: true },
  },
];

describe("Parzen estimator against Optuna 3.1's _ParzenEstimator", { skip: pythonSkip(['optuna', 'scipy']) }, () => {
  for (const [index, { name, distributions, n, options }] of SPACES.entries()) {
    it(`${name}: same weights, kernel centres, bandwidths and log density at the candidates`, () => {
      const parzenOptions = { ...OPTIONS, ...options };
      const observed = observe(distributions, n, 100 + index);
      const estimator = buildParzenEstimator(distributions, observed, parzenOptions);
      const candidates = sampleParzen(estimator, createRng(index), 24);
      const expected = runPython<{
        weights: number[];
        mus: (number[] | null)[];
        sigmas: (number[] | null)[];
        categorical: (number[] | null)[];
        logpdf: number[];
      }>(OPTUNA_PARZEN, {
        distributions,
        observed: observed.map((o) => Array.from(o)),
        options: parzenOptions,
        candidates: candidates.map((c) => Array.from(c)),
      });
      assertClose(estimator.weights, expected.weights, 1e-12, 'weights');
      estimator.kernels.forEach((kernel, p) => {
        if (kernel.kind === 'categorical') {
          assertClose(kernel.probs, expected.categorical[p] as number[], 1e-12, `categorical weights ${p}`);
        } else {
          assertClose(kernel.mus, expected.mus[p] as number[], 1e-12, `mus ${p}`);
          // Tied centres may take their neighbours' bandwidths in another order (numpy's argsort is
          // not stable), so bandwidths are compared per centre as multisets.
          assert.deepEqual(
            bandwidthsByCentre(kernel.mus, kernel.sigmas),
            bandwidthsByCentre(kernel.mus, expected.sigmas[p] as number[]),
          );
        }
      });
      assertClose(logPdfParzen(estimator, candidates), expected.logpdf, 1e-8, 'log density');
    });
  }
});

describe('Parzen sampling', () => {
  it('default_weights: ones up to 25 observations, then a ramp from 1/n over the oldest n − 25', () => {
    assert.deepEqual(Array.from(defaultWeights(3)), [1, 1, 1]);
    const w = defaultWeights(30);
    assert.equal(w[0], 1 / 30);
    assert.equal(w[4], 1);
    assert.ok((w[1] as number) < (w[2] as number));
    assert.ok(w.slice(5).every((v) => v === 1));
  });

  it('candidates stay inside the distribution and on its grid', () => {
    const distributions: Distribution[] = [
      { type: 'float', low: 0, high: 1, step: 0.1 },
      { type: 'int', low: 3, high: 300, log: true },
      { type: 'float', low: 1e-5, high: 1e-1, log: true },
    ];
    const estimator = buildParzenEstimator(distributions, observe(distributions, 50, 3), {
      ...OPTIONS,
      multivariate: true,
    });
    const [stepped, logInt, logFloat] = sampleParzen(estimator, createRng(9), 500) as Float64Array[];
    for (const v of stepped as Float64Array)
      assert.ok(v >= 0 && v <= 1 && Math.abs(v * 10 - Math.round(v * 10)) < 1e-9);
    for (const v of logInt as Float64Array) assert.ok(Number.isInteger(v) && v >= 3 && v <= 300);
    for (const v of logFloat as Float64Array) assert.ok(v >= 1e-5 && v <= 1e-1);
  });
});
