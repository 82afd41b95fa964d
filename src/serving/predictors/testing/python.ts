import { runPython } from '../../../learn/testing/python.js';
import type { PenguinRecord } from '../../../learn/testing/vega.js';
import { heldOut, PENGUIN_MEASUREMENTS } from './penguins.js';

/** What the reference script answers: models written by XGBoost / onnx and their own predictions on the held-out rows. */
export interface PythonReferences {
  species: string[];
  xgboost: {
    multiclass: { model: string; proba: number[][] };
    binary: { model: string; proba: number[][] };
    regression: { model: string; pred: number[] };
  };
  onnx: {
    /** base64 of a LinearClassifier graph (input X [N, 4] float), sklearn LogisticRegression's weights. */
    classifier: { model: string; proba: number[][]; labels: string[] };
    /** base64 of a LinearRegressor graph (input `input` [N, 3] float, no feature names). */
    regressor: { model: string; pred: number[] };
    /** base64 of a MatMul graph whose weights live in an external file `weights.bin`. */
    external: string;
  };
  /** Held-out rows used for the ONNX references (those without missing measurements). */
  completeTest: number[];
}

const SCRIPT = `
import base64, json, sys
import numpy as np
import xgboost as xgb
from onnx import TensorProto, helper
from sklearn.linear_model import LinearRegression, LogisticRegression
a = json.load(sys.stdin)
names = a['names']
X = np.array([[np.nan if v is None else v for v in row] for row in a['X']], dtype=float)
species = sorted(set(a['species']))
y = np.array([species.index(s) for s in a['species']])
test = np.array(a['test'])
train = ~test
params = dict(n_estimators=30, max_depth=4, learning_rate=0.3, tree_method='hist', n_jobs=2, random_state=0)

def booster_json(model):
    b = model.get_booster()
    b.feature_names = names
    return b.save_raw('json').decode()

multi = xgb.XGBClassifier(**params).fit(X[train], y[train])
multi_proba = multi.predict_proba(X[test]).tolist()
binary = xgb.XGBClassifier(**params).fit(X[train], (y[train] == 0).astype(int))
binary_proba = binary.predict_proba(X[test]).tolist()
reg_X = X[:, :3]
mass = X[:, 3]
known = ~np.isnan(mass)
reg = xgb.XGBRegressor(**params).fit(reg_X[train & known], mass[train & known])
reg_pred = reg.predict(reg_X[test]).tolist()
reg.get_booster().feature_names = names[:3]

complete = ~np.isnan(X).any(axis=1)
lr = LogisticRegression(max_iter=10000).fit(X[train & complete], y[train & complete])
ct = test & complete
Xin = helper.make_tensor_value_info('X', TensorProto.FLOAT, [None, 4])
label = helper.make_tensor_value_info('label', TensorProto.STRING, [None])
scores = helper.make_tensor_value_info('probabilities', TensorProto.FLOAT, [None, 3])
node = helper.make_node('LinearClassifier', ['X'], ['label', 'probabilities'], domain='ai.onnx.ml',
    coefficients=lr.coef_.astype(float).ravel().tolist(), intercepts=lr.intercept_.astype(float).tolist(),
    classlabels_strings=species, post_transform='SOFTMAX', multi_class=1)
g = helper.make_graph([node], 'penguins', [Xin], [label, scores])
m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 17), helper.make_opsetid('ai.onnx.ml', 3)])
m.ir_version = 8
helper.set_model_props(m, {'feature_names': json.dumps(names)})
classifier = {'model': base64.b64encode(m.SerializeToString()).decode(),
  'proba': lr.predict_proba(X[ct]).tolist(), 'labels': [species[i] for i in lr.predict(X[ct])]}

lin = LinearRegression().fit(reg_X[train & complete], mass[train & complete])
Rin = helper.make_tensor_value_info('input', TensorProto.FLOAT, [None, 3])
Rout = helper.make_tensor_value_info('variable', TensorProto.FLOAT, [None, 1])
rnode = helper.make_node('LinearRegressor', ['input'], ['variable'], domain='ai.onnx.ml',
    coefficients=lin.coef_.astype(float).tolist(), intercepts=[float(lin.intercept_)])
rm = helper.make_model(helper.make_graph([rnode], 'mass', [Rin], [Rout]),
    opset_imports=[helper.make_opsetid('', 17), helper.make_opsetid('ai.onnx.ml', 3)])
rm.ir_version = 8
regressor = {'model': base64.b64encode(rm.SerializeToString()).decode(), 'pred': lin.predict(reg_X[ct]).tolist()}

import os, tempfile, onnx
from onnx import numpy_helper
W = numpy_helper.from_array(np.ones((3, 1), dtype=np.float32), name='W')
xm = helper.make_model(helper.make_graph([helper.make_node('MatMul', ['input', 'W'], ['variable'])], 'ext', [Rin], [Rout], [W]),
    opset_imports=[helper.make_opsetid('', 17)])
xm.ir_version = 8
with tempfile.TemporaryDirectory() as d:
    onnx.save_model(xm, os.path.join(d, 'ext.onnx'), save_as_external_data=True, all_tensors_to_one_file=True,
        location='weights.bin', size_threshold=0)
    external = base64.b64encode(open(os.path.join(d, 'ext.onnx'), 'rb').read()).decode()

print(json.dumps({
  'species': species,
  'xgboost': {
    'multiclass': {'model': booster_json(multi), 'proba': multi_proba},
    'binary': {'model': booster_json(binary), 'proba': binary_proba},
    'regression': {'model': reg.get_booster().save_raw('json').decode(), 'pred': reg_pred},
  },
  'onnx': {'classifier': classifier, 'regressor': regressor, 'external': external},
  'completeTest': [int(i) for i in np.nonzero(ct)[0]],
}))
`;

/**
 * Trains the reference models in /usr/bin/python3 on the same penguin rows Kiln's test models use
 * (every 4th row held out): XGBoost classifiers (3 classes, Adelie-or-not) and a regressor with
 * named features, and two generic ONNX graphs built with onnx.helper from sklearn's weights.
 *
 * @example
 * const ref = pythonReferences(records); // skip the suite first with pythonSkip(['xgboost', 'sklearn', 'onnx'])
 */
export function pythonReferences(records: readonly PenguinRecord[]): PythonReferences {
  return runPython<PythonReferences>(SCRIPT, {
    names: PENGUIN_MEASUREMENTS,
    X: records.map((r) => PENGUIN_MEASUREMENTS.map((c) => (typeof r[c] === 'number' ? (r[c] as number) : null))),
    species: records.map((r) => String(r.Species)),
    test: records.map((_, i) => heldOut(i)),
  });
}
