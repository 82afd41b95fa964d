import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { minimizeLbfgs } from './optimize.js';

describe('minimizeLbfgs', () => {
  it('finds the minimum of the 10-dimensional Rosenbrock function', () => {
    const n = 10;
    const result = minimizeLbfgs(
      (x, g) => {
        g.fill(0);
        let f = 0;
        for (let i = 0; i < n - 1; i++) {
          const a = x[i] as number;
          const b = x[i + 1] as number;
          f += 100 * (b - a * a) ** 2 + (1 - a) ** 2;
          g[i] = (g[i] as number) - 400 * a * (b - a * a) - 2 * (1 - a);
          g[i + 1] = (g[i + 1] as number) + 200 * (b - a * a);
        }
        return f;
      },
      new Float64Array(n).fill(-1.2),
      { gtol: 1e-9, maxIter: 5000 },
    );
    assert.ok(result.converged);
    for (const v of result.x) assert.ok(Math.abs(v - 1) < 1e-6, `x = ${v}`);
    assert.ok(result.value < 1e-12);
  });

  it('solves an ill-conditioned quadratic to the gradient tolerance', () => {
    // f = Σ cᵢ (xᵢ − i)² / 2 with curvatures from 1e-2 to 1e2 (scipy's L-BFGS-B needs 589 iterations).
    const c = Float64Array.from({ length: 20 }, (_, i) => 10 ** (-2 + (4 * i) / 19));
    const result = minimizeLbfgs(
      (x, g) => {
        let f = 0;
        for (let i = 0; i < x.length; i++) {
          const d = (x[i] as number) - i;
          f += 0.5 * (c[i] as number) * d * d;
          g[i] = (c[i] as number) * d;
        }
        return f;
      },
      new Float64Array(20),
      { gtol: 1e-10, ftol: 0 },
    );
    assert.ok(result.converged);
    result.x.forEach((v, i) => {
      assert.ok(Math.abs(v - i) * (c[i] as number) <= 1e-10, `x${i} = ${v}`);
    });
  });

  it('with L1 weights (OWL-QN) gives the soft-thresholded answer with exact zeros', () => {
    // ½‖x − t‖² + Σ λᵢ|xᵢ| is minimised by sign(t)·max(|t| − λ, 0); λ = 0 leaves a coordinate free.
    const t = [3, -2, 0.5, -0.2, 4];
    const l1 = Float64Array.from([1, 1, 1, 1, 0]);
    const result = minimizeLbfgs(
      (x, g) => {
        let f = 0;
        for (let i = 0; i < x.length; i++) {
          const d = (x[i] as number) - (t[i] as number);
          f += 0.5 * d * d;
          g[i] = d;
        }
        return f;
      },
      new Float64Array(t.length),
      { l1, gtol: 1e-12 },
    );
    assert.ok(result.converged);
    const expected = [2, -1, 0, 0, 4];
    result.x.forEach((v, i) => {
      assert.ok(Math.abs(v - (expected[i] as number)) < 1e-10, `x${i} = ${v}`);
    });
    assert.equal(result.x[2], 0);
    assert.equal(result.x[3], 0);
    assert.ok(Math.abs(result.value - (0.5 * (1 + 1 + 0.25 + 0.04) + 3)) < 1e-10);
  });

  it('reports no convergence when the iteration limit is hit first', () => {
    const result = minimizeLbfgs(
      (x, g) => {
        g[0] = 4 * (x[0] as number) ** 3;
        return (x[0] as number) ** 4;
      },
      Float64Array.from([5]),
      { maxIter: 2, gtol: 1e-12, ftol: 0 },
    );
    assert.equal(result.converged, false);
    assert.equal(result.iterations, 2);
  });
});
